"""Start-up, init failures, metadata, the termination log and SIGTERM draining."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers.predictor_process import Predictor, request, wait_until

METADATA_MODEL = """
import helper

seen = {}


def init(metadata):
    seen["init"] = metadata


def predict(sample, metadata):
    return {"init": seen["init"], "predict": metadata, "helper": helper.NAME, "sample": sample}
"""


def test_metadata_reaches_init_and_predict_and_helpers_import(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    metadata = {"model": "s3://bucket/model.bin", "layers": [1, 2], "nested": {"k": True}}
    root = project(METADATA_MODEL, metadata=metadata, files={"helper.py": "NAME = 'beside'\n"})
    replica = start_predictor(root).wait_ready()
    resp = replica.post({"x": 1})
    assert resp.status == 200
    assert resp.json() == {"init": metadata, "predict": metadata, "helper": "beside",
                           "sample": {"x": 1}}


NESTED_MODEL = """
from pathlib import Path

import sibling  # beside the inference file, in a sub-folder
import top  # at the project root

WORDS = Path("data/words.txt").read_text().split()  # relative to the project root


def predict(sample, metadata):
    return [sibling.NAME, top.NAME, WORDS]
"""


def test_nested_inference_file_imports_and_reads_relative_to_the_project(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    root = project("")
    (root / "src").mkdir()
    (root / "data").mkdir()
    (root / "src" / "model.py").write_text(NESTED_MODEL)
    (root / "src" / "sibling.py").write_text("NAME = 'sibling'\n")
    (root / "top.py").write_text("NAME = 'top'\n")
    (root / "data" / "words.txt").write_text("a b\n")
    (root / "cortex.yaml").write_text(
        "- kind: api\n  name: test-api\n  python:\n    inference: src/model.py\n")
    replica = start_predictor(root).wait_ready()  # its working directory is not the project
    assert replica.post(1).json() == ["sibling", "top", ["a", "b"]]


def test_metadata_defaults_to_an_empty_dict(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    root = project("def predict(sample, metadata):\n    return metadata\n")
    replica = start_predictor(root).wait_ready()
    assert replica.post(1).json() == {}


# Static problems are found by the config validation (positioned file:line:col), the rest
# when the module runs; either way one ERROR line naming the file and line.
INIT_FAILURES = {
    "syntax": ("def predict(sample, metadata)\n    return 1\n",
               r"inference\.py:1:\d+: .*syntax error: expected ':'"),
    "import": ("import no_such_module_for_cortex\n\ndef predict(sample, metadata):\n    return 1\n",
               r"inference\.py:1: import failed: ModuleNotFoundError: "
               r"No module named 'no_such_module_for_cortex'"),
    "module-code": ("x = 1\nraise RuntimeError('weights missing')\n\n\n"
                    "def predict(sample, metadata):\n    return 1\n",
                    r"inference\.py:2: import failed: RuntimeError: weights missing"),
    "no-predict": ("def init(metadata):\n    pass\n",
                   r"inference\.py:1:1: .*must define predict\(sample, metadata\)"),
    "predict-not-a-function": ("predict = 42\n",
                               r"inference\.py: predict is not a function"),
    "bad-signature": ("\n\ndef predict(sample):\n    return 1\n",
                      r"inference\.py:3:1: .*predict\(sample, metadata\) "
                      r"\(got predict\(sample\)\)"),
    "bad-signature-at-run-time": (
        "import functools\n\npredict = functools.partial(lambda a: a)\n",
        r"inference\.py: bad signature partial\(a\): must be callable as "
        r"partial\(sample, metadata\)"),
    "init-raises": ("def init(metadata):\n    model = None\n    model.load()\n\n"
                    "def predict(sample, metadata):\n    return 1\n",
                    r"inference\.py:3: init failed: AttributeError: 'NoneType' object has no "
                    r"attribute 'load'"),
    "async-init-raises": ("async def init(metadata):\n    raise KeyError('vocab')\n\n"
                          "def predict(sample, metadata):\n    return 1\n",
                          r"inference\.py:2: init failed: KeyError: 'vocab'"),
    # SystemExit / KeyboardInterrupt raised by user code are failures like any other
    # (a real Ctrl-C or SIGTERM goes through the replica's signal handlers).
    "import-interrupted": ("raise KeyboardInterrupt\n\ndef predict(sample, metadata):\n"
                           "    return 1\n",
                           r"inference\.py:1: import failed: KeyboardInterrupt$"),
    "init-exits": ("import sys\n\ndef init(metadata):\n    sys.exit(4)\n\n"
                   "def predict(sample, metadata):\n    return 1\n",
                   r"inference\.py:4: init failed: SystemExit: 4$"),
    "async-init-exits": ("async def init(metadata):\n    raise SystemExit(2)\n\n"
                         "def predict(sample, metadata):\n    return 1\n",
                         r"inference\.py:2: init failed: SystemExit: 2$"),
    "async-init-interrupted": ("async def init(metadata):\n    raise KeyboardInterrupt\n\n"
                               "def predict(sample, metadata):\n    return 1\n",
                               r"inference\.py:2: init failed: KeyboardInterrupt$"),
    "init-raises-unprintable": ("class Weird(Exception):\n    def __str__(self):\n"
                                "        raise RuntimeError\n\n"
                                "def init(metadata):\n    raise Weird()\n\n"
                                "def predict(sample, metadata):\n    return 1\n",
                                r"inference\.py:6: init failed: Weird: <message not printable>$"),
    "init-raises-without-message": ("def init(metadata):\n    raise MemoryError()\n\n"
                                    "def predict(sample, metadata):\n    return 1\n",
                                    r"inference\.py:2: init failed: MemoryError$"),
}


@pytest.mark.parametrize("case", sorted(INIT_FAILURES))
def test_init_failures_exit_non_zero_with_one_clear_message(
    case: str, project: Callable[..., Path], start_predictor: Callable[..., Predictor],
    tmp_path: Path,
) -> None:
    source, message = INIT_FAILURES[case]
    termination_log = tmp_path / f"termination-{case}"
    replica = start_predictor(project(source),
                              env={"CORTEX_TERMINATION_LOG": str(termination_log)})
    assert replica.wait_exit() == 1
    line = replica.wait_line(rf"ERROR .*{message}")
    assert "Traceback" not in replica.output
    written = termination_log.read_text()
    assert written.strip() == line.string.split(" ERROR   test-test-api ", 1)[1].strip()


def test_unknown_api_and_invalid_project_are_clear_errors(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    replica = start_predictor(project(), api="other-api")
    assert replica.wait_exit() == 1
    replica.wait_line(r"no api named 'other-api' \(apis: test-api\)")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "cortex.yaml").write_text("- kind: api\n  name: Bad_Name\n")
    replica = start_predictor(broken, api="x")
    assert replica.wait_exit() == 1
    replica.wait_line(r"ERROR .*invalid project .*cortex\.yaml:2")
    assert "Traceback" not in replica.output


def test_usage_error_without_project_exits_2() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORTEX_")}
    done = subprocess.run([sys.executable, "-m", "predictor", "--api", "x"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--project" in done.stderr


def test_options_from_environment_variables(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    root = project(api="env-api")
    replica = start_predictor(root, flags=False, env={
        "CORTEX_PROJECT": str(root), "CORTEX_API": "env-api", "CORTEX_HOST": "127.0.0.1",
        "CORTEX_PORT": "0", "CORTEX_ADMIN_PORT": "0", "CORTEX_REPLICA": "pod-7",
    }).wait_ready()
    assert replica.admin_port is not None and replica.admin_port != replica.port
    stats = replica.stats()
    assert stats["api"] == "env-api" and stats["replica"] == "pod-7"
    assert replica.post({"x": 1}).json() == {"x": 1}


def test_flags_win_over_the_environment(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    root = project(api="flag-api")
    replica = start_predictor(root, api="flag-api", env={"CORTEX_API": "other"}).wait_ready()
    assert replica.get("/stats").json()["api"] == "flag-api"


GATED_INIT = """
import os
import time


def init(metadata):
    while not os.path.exists(metadata["gate"]):
        time.sleep(0.01)


def predict(sample, metadata):
    return sample
"""


def test_healthz_and_predict_are_503_until_init_is_done(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    replica = start_predictor(project(GATED_INIT, metadata={"gate": str(gate)}))
    replica.wait_listening()
    health = replica.get("/healthz")
    assert health.status == 503
    assert health.json()["ok"] is False
    # Liveness is not readiness: a replica still in init is alive (no restart loop).
    assert replica.get("/livez").status == 200
    busy = replica.post({"x": 1})
    assert busy.status == 503
    assert busy.headers["retry-after"] == "1"
    gate.touch()
    replica.wait_ready()
    assert replica.get("/healthz").json() == {"ok": True}
    assert replica.post({"x": 1}).json() == {"x": 1}


GATED_PREDICT = """
import os
import time


def predict(sample, metadata):
    while not os.path.exists(metadata["gate"]):
        time.sleep(0.005)
    return sample
"""


def test_sigterm_during_a_burst_loses_no_request(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    root = project(GATED_PREDICT, metadata={"gate": str(gate)},
                   compute={"threads_per_replica": 4})
    replica = start_predictor(root, admin_port=0).wait_ready()
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(replica.post, {"i": i}) for i in range(8)]
        wait_until(lambda: replica.stats()["in_flight"] == 8, what="8 requests in flight")
        replica.terminate()
        replica.wait_line(r"received SIGTERM")
        wait_until(lambda: _refused(replica.port), what="the serving port to close")
        gate.touch()  # 4 running and 4 queued requests may now finish
        results = [f.result() for f in futures]
    assert [r.status for r in results] == [200] * 8
    assert sorted(r.json()["i"] for r in results) == list(range(8))
    assert all(r.headers["connection"] == "close" for r in results)
    assert replica.wait_exit() == 0
    replica.wait_line(r"INFO .* stopped$")


def _refused(port: int | None) -> bool:
    try:
        request(port or 0, "GET", "/healthz", timeout=2)
    except ConnectionRefusedError:
        return True
    return False


def test_a_second_ctrl_c_exits_at_once(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor], tmp_path: Path
) -> None:
    gate = tmp_path / "never"
    replica = start_predictor(project(GATED_PREDICT, metadata={"gate": str(gate)}),
                              admin_port=0).wait_ready()
    with ThreadPoolExecutor(1) as pool:
        stuck = pool.submit(replica.post, {"i": 1})
        wait_until(lambda: replica.stats()["in_flight"] == 1, what="a request in flight")
        replica.proc.send_signal(signal.SIGINT)
        replica.wait_line(r"received SIGINT")
        replica.proc.send_signal(signal.SIGINT)
        assert replica.wait_exit(timeout=10) == 130
        with pytest.raises(OSError):  # abandoned: the connection is gone with the process
            stuck.result()
    replica.wait_line(r"WARNING .* second SIGINT: exiting now, 1 requests abandoned")


def test_sigterm_while_idle_exits_0_quickly(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    replica = start_predictor(project()).wait_ready()
    replica.terminate()
    assert replica.wait_exit(timeout=10) == 0


ASYNC_GATED_INIT = """
import asyncio


async def init(metadata):
    await asyncio.Event().wait()  # never set


def predict(sample, metadata):
    return sample
"""


@pytest.mark.parametrize("model", [GATED_INIT, ASYNC_GATED_INIT], ids=["sync", "async"])
def test_sigterm_during_init_exits_0_without_waiting_for_init(
    model: str, project: Callable[..., Path], start_predictor: Callable[..., Predictor],
    tmp_path: Path,
) -> None:
    gate = tmp_path / "never"
    replica = start_predictor(project(model, metadata={"gate": str(gate)}))
    replica.wait_line(r"loading inference\.py")
    replica.terminate()
    assert replica.wait_exit(timeout=20) == 0
    replica.wait_line(r"stopped during init")


LOST_TASK = """
import asyncio
import gc


async def fail():
    raise ValueError("lost task")


async def predict(sample, metadata):
    asyncio.get_running_loop().create_task(fail())  # never awaited: asyncio logs it
    await asyncio.sleep(0.01)
    gc.collect()
    return sample
"""


def test_asyncio_errors_are_one_log_line(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    replica = start_predictor(project(LOST_TASK)).wait_ready()
    assert replica.post(1).json() == 1
    line = replica.wait_line(r"ERROR .*Task exception was never retrieved")
    assert "ValueError: lost task" in line.string
    assert "Traceback" not in replica.output
