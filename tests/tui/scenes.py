"""Every screen of the TUI in a fixed state, built on the fake backend.

Shared by the snapshot tests and `screenshots/make.py`, so the pictures in the README are the
snapshots that the tests check. Run from a folder holding a copy of examples/iris at `iris/`
(the header and the editor show the relative path).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from cortex_tui.loadtest import histogram
from cortex_tui.loadtest.generator import Outcome, Tick
from cortex_tui.loadtest.run import Decision, ReplicaPoint, RunRecord
from cortex_tui.loadtest.spec import LoadSpec
from cortex_tui.tui.app import CortexApp
from tests.helpers.fake_backend import FIXED_NOW, FakeBackend

SIZE = (120, 36)
CONFIG = Path("iris/cortex.yaml")


async def settle(pilot: Any, rounds: int = 3) -> None:
    """Let thread workers finish and their result messages be handled."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_until(pilot: Any, condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Pause until `condition()` holds (timers and threads run meanwhile); fail after timeout."""
    for _ in range(int(timeout / 0.02)):
        if condition():
            await settle(pilot)
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {condition}")


def footer_keys(pilot) -> dict[str, str]:
    """Key -> description of what the footer offers right now."""
    return {
        key: active.binding.description
        for key, active in pilot.app.screen.active_bindings.items()
        if active.binding.show and active.enabled
    }


@dataclass(frozen=True)
class Scene:
    name: str
    title: str  # caption in the README
    steps: Callable[[Pilot], Awaitable[None]]
    app_options: dict[str, Any] = field(default_factory=dict)
    backend_options: dict[str, Any] = field(default_factory=dict)

    def app(self, config: Path = CONFIG) -> CortexApp:
        fake = FakeBackend(**self.backend_options)
        return CortexApp(fake, config_path=config, clock=fake.clock, refresh_interval=None,
                         **self.app_options)


async def _home(pilot: Pilot) -> None:
    await settle(pilot)


async def _press(pilot: Pilot, *keys: str, wait: float = 0.0) -> None:
    await settle(pilot)
    await pilot.press(*keys)
    if wait:
        await pilot.pause(wait)
    await settle(pilot)


Steps = Callable[[Pilot], Awaitable[None]]


def _detail(api: str, tab: str, *keys: str, wait: float = 0.0) -> Steps:
    async def steps(pilot: Pilot) -> None:
        await settle(pilot)
        pilot.app.open_api(api, tab=tab)  # type: ignore[attr-defined]
        await settle(pilot)
        if tab == "logs":
            log = pilot.app.screen.query_one("#log")
            await wait_until(pilot, lambda: len(log.lines) >= 21)
        await _press(pilot, *keys, wait=wait)

    return steps


async def _editor_with_problem(pilot: Pilot) -> None:
    await _press(pilot, "e")
    editor = pilot.app.screen.query_one("#editor")
    editor.move_cursor((11, len(editor.document.get_line(11))))  # type: ignore[attr-defined]
    await _press(pilot, "backspace", "0")
    await wait_until(pilot, lambda: pilot.app.screen.problems)  # type: ignore[attr-defined]


async def _scale(pilot: Pilot) -> None:
    await _press(pilot, "down", "down", "s", "down", "right", "right", "right", "up", "9")
    await _press(pilot, "enter")  # refused: min 9 > max 8


def _nodes(*keys: str) -> Steps:
    async def steps(pilot: Pilot) -> None:
        from cortex_tui.tui.screens.nodes import NodesScreen
        from tests.helpers.fake_cluster import FixedCluster

        cluster = FixedCluster()
        await settle(pilot)
        await pilot.app.push_screen(NodesScreen(service_factory=lambda env: cluster))
        await _press(pilot, *keys)

    return steps


def fixed_run(seconds: int, run_id: int | None = None, scale: float = 1.0) -> RunRecord:
    """A step-profile load test of iris-classifier, `seconds` into its 30 s (finished at 30),
    made of fixed numbers: what the Load test tab shows, without a generator or a clock."""
    spec = LoadSpec(profile="step", concurrency=16, duration=30)
    ticks, replicas = [], [ReplicaPoint(0.0, 1, 1)]
    total = histogram.new()
    for t in range(1, seconds + 1):
        level = spec.level(t - 0.5)
        ready = 1 if t < 11 else 2 if t < 19 else 3
        rps = round(scale * 180 * level * min(ready, 4 * level) / (4 * level))
        p50 = round((6 + 30 * level / ready) / scale, 1)
        shed = 12 if 9 <= t <= 11 else 0
        ticks.append(Tick(float(t), rps, p50, round(p50 * 1.8, 1), round(p50 * 3.1, 1),
                          rps - shed - (t % 7 == 0), int(t % 7 == 0), shed, shed, 0,
                          round(16 * level), level))
        replicas.append(ReplicaPoint(float(t), 1 if t < 9 else 2 if t < 17 else 3, ready))
        for _ in range(rps):
            total.record_value(int(p50 * 1000))
    decisions = [Decision(9.0, "1 -> 2 replicas (cpu 96% of request, target 80%)"),
                 Decision(17.0, "2 -> 3 replicas (cpu 91% of request, target 80%)")]
    outcome = None
    if seconds >= spec.duration:
        codes = {"2xx": sum(t.code_2xx for t in ticks), "4xx": sum(t.code_4xx for t in ticks),
                 "5xx": sum(t.code_5xx for t in ticks),
                 "503+retry-after": sum(t.shed for t in ticks)}
        outcome = Outcome(30.0, sum(t.requests for t in ticks), codes,
                          [("503 queue is full (128 waiting)", codes["503+retry-after"]),
                           ("400 malformed json: Expecting value", codes["4xx"])],
                          total.encode().decode(), ticks=ticks)
    return RunRecord("iris-classifier", "local", spec, "sample.json (1)",
                     FIXED_NOW - 600 * (run_id or 0), "local endpoint 127.0.0.1:41017",
                     ticks, replicas[: seconds + 1], decisions[: (seconds >= 9) + (seconds >= 17)],
                     outcome, id=run_id)


def _load_test(seconds: int, *keys: str) -> Steps:
    async def steps(pilot: Pilot) -> None:
        from cortex_tui.tui.widgets.loadtest_panel import LoadTestPanel

        await _detail("iris-classifier", "loadtest")(pilot)
        panel = pilot.app.screen.query_one(LoadTestPanel)
        panel.show(fixed_run(seconds, 2 if seconds >= 30 else None))
        if seconds >= 30:
            panel.show_runs([fixed_run(30, 2), fixed_run(30, 1, scale=0.6)])
        await _press(pilot, *keys)

    return steps


SCENES: tuple[Scene, ...] = (
    Scene("apis", "APIs view: live table, target header, counts by status", _home),
    Scene("first-run", "First run: nothing deployed yet, the view says how to deploy", _home,
          backend_options={"n_apis": 0}),
    Scene("apis-filter", "APIs view filtered with /", lambda p: _press(p, "slash", "r", "e")),
    Scene("detail-overview", "API detail: overview with status message and events",
          _detail("sentiment-analyzer", "overview")),
    Scene("detail-metrics", "API detail: replicas, traffic and class distribution",
          _detail("iris-classifier", "metrics")),
    Scene("detail-metrics-regression", "API detail: regression histogram with min/max/avg",
          _detail("housing-regressor", "metrics")),
    Scene("detail-logs", "API detail: logs filtered with / (matches highlighted)",
          _detail("iris-classifier", "logs", "slash", "2", "0", "0", "enter")),
    Scene("detail-predict", "API detail: predict panel after ctrl+r",
          _detail("iris-classifier", "predict", "ctrl+r")),
    Scene("scale", "Scale dialog (s) refusing values outside the rules", _scale),
    Scene("loadtest-dialog", "Load test dialog (b): samples, profile, load, duration",
          lambda p: _press(p, "b")),
    Scene("loadtest-running", "Load test tab while a step profile runs: 12 s of 30",
          _load_test(12)),
    Scene("loadtest-finished", "Load test finished: summary and the saved runs", _load_test(30)),
    Scene("loadtest-compare", "Two saved runs side by side (space marks, c compares)",
          _load_test(30, "space", "down", "space", "c")),
    Scene("editor", "Editor (e) with live validation: problem listed and line marked",
          _editor_with_problem),
    Scene("delete", "ctrl+d asks first; Cancel is the default", lambda p: _press(p, "ctrl+d")),
    Scene("help", "? lists the active keys with their keymap ids",
          lambda p: _press(p, "question_mark")),
    Scene("readonly", "--readonly: no mutating action is offered", _home, {"readonly": True}),
    Scene("nodes", "Nodes (n): node groups, nodes, pods pending for room", _nodes()),
    Scene("node-bounds", "Node group min / max dialog (s on the nodes page)",
          _nodes("down", "s", "right", "down", "plus", "plus")),
)
