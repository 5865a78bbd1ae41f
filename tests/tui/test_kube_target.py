"""The TUI on the Kubernetes target: the real backend against the fake API server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cortex_tui.backends import get_backend
from cortex_tui.tui.widgets.api_table import ApiTable
from cortex_tui.tui.widgets.header import TargetHeader
from tests.helpers.fakekube import FakeKube
from tests.tui.conftest import SIZE, palette, settle
from tests.tui.scenes import wait_until


@pytest.fixture
def fakekube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    server = FakeKube().start()
    try:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", context="fake")
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        yield server
    finally:
        server.stop()


async def test_switch_to_a_context_deploy_and_see_the_api(make_app, fakekube: FakeKube) -> None:
    app = make_app(backend_factory=get_backend)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "fake", "Switch target to fake")
        await wait_until(pilot, lambda: app.env == "fake")
        header = app.screen.query_one(TargetHeader)
        await wait_until(pilot, lambda: "fake / ns cortex · 1 node: 4 cpu, 16.0 GiB"
                         in str(header.render()))
        table = app.screen.query_one(ApiTable)
        assert table.row_count == 0
        await pilot.press("f5")
        await settle(pilot)

        def shown() -> bool:
            app.screen.refresh_data()
            return table.row_count == 1 and table.get_cell("iris-classifier", "bounds") == "1-4"

        await wait_until(pilot, shown, timeout=20)
        assert any(method == "POST" and "deployments" in path
                   for method, path, _status in fakekube.writes)
    app.backend.close()
