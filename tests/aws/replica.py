"""A real predictor replica process for the CloudWatch tests, and small HTTP helpers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.aws.conftest import FAKE_CREDENTIALS, REGION
from tests.helpers.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
IRIS = ROOT / "examples" / "iris"
SAMPLES = [
    {"sepal_length": 5.2, "sepal_width": 3.6, "petal_length": 1.4, "petal_width": 0.3},
    {"sepal_length": 6.9, "sepal_width": 3.1, "petal_length": 5.4, "petal_width": 2.1},
    {"sepal_length": 5.0, "sepal_width": 3.4, "petal_length": 1.5, "petal_width": 0.2},
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    return wait_until(check, timeout, what, period=0.1)


def post(url: str, body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def cloudwatch_env(endpoint: str, namespace: str) -> dict[str, str]:
    return {
        "CORTEX_CLOUDWATCH_NAMESPACE": namespace,
        "CORTEX_CLOUDWATCH_ENDPOINT": endpoint,
        "AWS_REGION": REGION,
    }


class Replica:
    """A real `python -m predictor` process serving examples/iris on 127.0.0.1, with fake
    AWS credentials, a fast CloudWatch flush and `env` (the CloudWatch settings)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {
            **os.environ, **FAKE_CREDENTIALS,
            "CORTEX_CLOUDWATCH_FLUSH_SECONDS": "0.2",
            "CORTEX_CLOUDWATCH_CLOSE_SECONDS": "1",
            "CORTEX_GRACE_SECONDS": "5",
            **env,
        }
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "predictor", "--project", str(IRIS), "--api",
                 "iris-classifier", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        wait_for(lambda: healthy(self.url) or self.process.poll() is not None, what="ready")
        assert self.process.poll() is None, self.log.read_text()

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text()
