"""API-server traffic and time per Kubernetes backend operation, against tests/helpers/fakekube
(in this process, on 127.0.0.1). Requests per operation are exact; times are for comparison
between operations of the same run only (the fake is not an API server's speed).

    .venv/bin/python bench/kube_requests.py [N]
"""

from __future__ import annotations

import collections
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cortex_tui.config import load_project
from cortex_tui.kube.backend import KubernetesBackend
from cortex_tui.settings import Environment
from cortex_tui.types import Status
from tests.helpers.fakekube import FakeKube


def measure(fake: FakeKube, label: str, operation: Callable[[], object], n: int) -> None:
    fake.clear_requests()
    started = time.perf_counter()
    for _ in range(n):
        operation()
    per_op = (time.perf_counter() - started) / n * 1000
    counts = collections.Counter(method for method, _, _ in fake.requests)
    per = ", ".join(f"{method} {count / n:g}" for method, count in sorted(counts.items()))
    print(f"{label:30s} {per_op:8.1f} ms   {per}")


def main(n: int) -> None:
    folder = Path(tempfile.mkdtemp())
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "iris", folder / "iris")
    with FakeKube() as fake:
        os.environ["KUBECONFIG"] = str(fake.write_kubeconfig(folder / "kubeconfig"))
        backend = KubernetesBackend(Environment(name="fake", kind="kubernetes", context="fake"))
        project = load_project(folder / "iris")
        measure(fake, "deploy (first: creates)", lambda: backend.deploy(project), 1)
        while backend.get()[0].status is not Status.LIVE:
            time.sleep(0.02)
        measure(fake, "deploy (unchanged: no write)", lambda: backend.deploy(project), n)
        measure(fake, "get() (1 API, 1 replica)", backend.get, n)
        measure(fake, "target_info()", backend.target_info, n)
        measure(fake, "events(api)", lambda: backend.events("iris-classifier"), n)
        backend.close()
    shutil.rmtree(folder)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
