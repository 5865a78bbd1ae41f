"""The generator against a real (deliberately slow) HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from cortex_tui.loadtest import generator, histogram
from cortex_tui.loadtest.spec import LoadSpec
from cortex_tui.loadtest.worker import WorkerProcess
from tests.helpers.slow_http import SlowServer
from tests.helpers.slow_http import slow_server as serve_slowly

SERVICE_TIME = 0.05  # the server answers one request at a time, each after 50 ms


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    with serve_slowly(SERVICE_TIME) as url:
        yield url


def test_rate_mode_counts_the_wait_behind_a_slow_server(slow_server: SlowServer) -> None:
    """Keep-alive: one connection serves every request of a closed loop at c=1.
    At 40 req/s against a server that does 20/s, requests queue: latency from each request's
    scheduled start grows (no coordinated omission), while the closed loop at one connection
    only ever sees the service time."""
    closed = generator.run(slow_server, [b"{}"], LoadSpec(concurrency=1, duration=0.6))
    closed_p50 = histogram.percentiles_ms(histogram.decode(closed.histogram))["p50"]
    assert closed_p50 is not None and closed_p50 < 2.5 * SERVICE_TIME * 1000
    assert closed.requests > 5 and slow_server.connections == 1

    opened = generator.run(slow_server, [b"{}"], LoadSpec(concurrency=1, rate=40, duration=0.6))
    p = histogram.percentiles_ms(histogram.decode(opened.histogram))
    assert opened.codes == {"2xx": opened.requests}
    assert opened.requests == 24  # every scheduled request is sent, late or not
    assert p["p50"] is not None and p["p50"] > 4 * SERVICE_TIME * 1000
    assert p["max"] is not None and p["max"] > 10 * SERVICE_TIME * 1000


def test_a_stopped_worker_reports_at_once(slow_server: SlowServer) -> None:
    worker = WorkerProcess(slow_server, [b"{}"], LoadSpec(concurrency=2, duration=600))
    try:
        first = None
        while first is None or first[0] != "tick":
            first = worker.receive(10)
        t0 = time.monotonic()
        worker.stop()
        message = None
        while message is None or message[0] == "tick":
            message = worker.receive(5)
        assert message[0] == "done"
        assert time.monotonic() - t0 < 2
        assert message[1].requests > 0 and message[1].elapsed < 10
    finally:
        worker.close()


@pytest.mark.parametrize(("profile", "levels"), [
    ("constant", [1, 1, 1, 1]), ("step", [0.25, 0.5, 0.75, 1]),
    ("ramp", [0.05, 0.25, 0.5, 0.75]), ("spike", [0.2, 0.2, 1, 0.2]),
])
def test_profiles(profile: str, levels: list[float]) -> None:
    spec = LoadSpec(profile=profile, concurrency=8, duration=40)  # type: ignore[arg-type]
    assert [spec.level(t) for t in (0, 10, 20, 30)] == levels
    assert spec.active_connections(0) >= 1
