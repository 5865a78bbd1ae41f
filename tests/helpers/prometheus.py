"""A real Prometheus server (Debian's `prometheus`, installed by .ci/run) for tests."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.waiting import wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Prometheus:
    """`prometheus` scraping what `scrape_configs` name, every `interval`; stopped by close()."""

    def __init__(self, workdir: Path, scrape_configs: list[dict[str, Any]],
                 interval: str = "1s") -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.skip("the prometheus server is not installed (Debian package prometheus; "
                        ".ci/run installs it with apt-get when it can)")
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "scrape_configs": scrape_configs,
        }))
        self.port = _free_port()
        self.log = workdir / "prometheus.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        wait_until(self._ready, 30, f"prometheus ready (log: {self.log})", period=0.1)

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited: {self.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector's samples: [{"metric": {...}, "value": float}, ...]."""
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?"
               + urllib.parse.urlencode({"query": promql}))
        with urllib.request.urlopen(url, timeout=10) as resp:
            data = json.load(resp)
        assert data["status"] == "success", data
        return [{"metric": r["metric"], "value": float(r["value"][1])}
                for r in data["data"]["result"]]

    def scalar(self, promql: str) -> float | None:
        """The single sample's value (None when the result is empty)."""
        result = self.query(promql)
        assert len(result) <= 1, result
        return result[0]["value"] if result else None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
