"""The TUI nodes panel (`n`): node groups from AWS (moto) and nodes from the shared fake
Kubernetes API; `s` changes a group's min / max from the keyboard."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from textual.widgets import DataTable, Static

from cortex_tui.tui.app import CortexApp
from cortex_tui.tui.screens.nodes import NodeBoundsScreen, NodesScreen
from tests.aws.conftest import REGION
from tests.aws.kube_cluster import add_big_pod, aws_cluster
from tests.helpers.fake_backend import FakeBackend
from tests.helpers.fakekube import FakeKube

SIZE = (120, 40)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def cluster(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    home = Path(os.environ["CORTEX_TUI_HOME"])
    with aws_cluster(aws_env, home, tmp_path / "kubeconfig", monkeypatch) as fake:
        yield fake


def make_app(env: str = "prod") -> CortexApp:
    backend = FakeBackend()
    backend.env_name = env
    return CortexApp(backend, config_path=EXAMPLES / "iris" / "cortex.yaml", env=env,
                     clock=backend.clock, refresh_interval=None)


async def settle(pilot: Any, rounds: int = 4) -> None:
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def rows(screen: NodesScreen, table_id: str) -> list[list[str]]:
    table = screen.query_one(table_id, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def bounds(url: str, name: str) -> tuple[int, int, int]:
    client = boto3.client("autoscaling", region_name=REGION, endpoint_url=url)
    group = client.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return group[0]["MinSize"], group[0]["DesiredCapacity"], group[0]["MaxSize"]


async def open_nodes(pilot: Any) -> NodesScreen:
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, NodesScreen)
    return screen


async def test_panel_shows_groups_nodes_and_pending_pods(cluster: FakeKube) -> None:
    add_big_pod(cluster, "housing-regressor-x1", "housing-regressor", cpu="32")
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_nodes(pilot)
        cluster.wait_for(lambda: cluster.pods("cortex")[0].get("status", {}).get("conditions"),
                         message="the pod scheduled (or not)")
        await pilot.press("r")
        await settle(pilot)
        assert rows(screen, "#groups") == [
            ["prod-cpu", "m5.large", "2", "1", "4", "2", "2"],
            ["prod-gpu", "g4dn.xlarge", "1", "0", "2", "1", "1"],
        ]
        nodes = rows(screen, "#nodes")
        assert [n[:3] for n in nodes] == [
            ["ip-10-0-1-1", "prod-cpu", "m5.large"],
            ["ip-10-0-1-2", "prod-cpu", "m5.large"],
            ["ip-10-0-2-1", "prod-gpu", "g4dn.xlarge"],
            ["control-plane", "-", "-"],  # nodes of no group come last
        ]
        assert nodes[2][4:] == ["4", "16.0Gi", "1"]
        pending = str(screen.query_one("#pending", Static).render())
        assert "cortex/housing-regressor-x1" in pending and "Insufficient cpu" in pending
        status = str(screen.query_one("#cluster-status", Static).render())
        assert status.startswith("prod  region us-east-1  ·  4 nodes: 9 cpu, 34.0Gi memory")


async def test_keyboard_changes_bounds_of_the_selected_group(cluster: FakeKube,
                                                             aws_env: str) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_nodes(pilot)
        await pilot.press("down", "s")  # prod-gpu
        dialog = pilot.app.screen
        assert isinstance(dialog, NodeBoundsScreen) and dialog.group.name == "prod-gpu"
        await pilot.press("right")  # min 0 -> 1
        await pilot.press("down", "plus", "plus")  # max 2 -> 4
        fields = str(dialog.query_one("#fields", Static).render())
        assert "(was 0)" in fields and "(was 2)" in fields
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is screen
        assert bounds(aws_env, "prod-gpu") == (1, 1, 4)
        assert rows(screen, "#groups")[1][:5] == ["prod-gpu", "g4dn.xlarge", "1", "1", "4"]
        assert bounds(aws_env, "prod-cpu") == (1, 2, 4)


async def test_invalid_bounds_are_refused_in_the_dialog(cluster: FakeKube, aws_env: str) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await open_nodes(pilot)
        await pilot.press("s")  # prod-cpu: min 1, max 4
        dialog = pilot.app.screen
        assert isinstance(dialog, NodeBoundsScreen)
        await pilot.press("7")  # min 7 > max 4
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is dialog
        reason = str(dialog.query_one("#reason", Static).render())
        assert reason == (
            "refused: min_instances (7) must be less than or equal to max_instances (4)"
        )
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, NodesScreen)
    assert bounds(aws_env, "prod-cpu") == (1, 2, 4)


async def test_local_target_explains_that_nodes_need_kubernetes(aws_env: str) -> None:
    async with make_app(env="local").run_test(size=SIZE) as pilot:
        screen = await open_nodes(pilot)
        status = str(screen.query_one("#cluster-status", Static).render())
        assert 'environment "local" is not a Kubernetes environment' in status


async def test_readonly_offers_no_bounds_dialog() -> None:
    from tests.helpers.fake_cluster import FixedCluster

    backend = FakeBackend()
    app = CortexApp(backend, config_path=EXAMPLES / "iris" / "cortex.yaml", env="prod",
                    clock=backend.clock, refresh_interval=None, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(NodesScreen(service_factory=lambda env: FixedCluster()))
        await settle(pilot)
        assert rows(pilot.app.screen, "#groups")[0][0] == "eks-cpu-workers"
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, NodesScreen)


async def test_aws_refusal_is_shown_in_the_dialog(cluster: FakeKube, aws_env: str) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await open_nodes(pilot)
        await pilot.press("s")  # prod-cpu
        dialog = pilot.app.screen
        assert isinstance(dialog, NodeBoundsScreen)
        boto3.client("autoscaling", region_name=REGION, endpoint_url=aws_env
                     ).delete_auto_scaling_group(AutoScalingGroupName="prod-cpu", ForceDelete=True)
        await pilot.press("down", "plus", "enter")  # max 4 -> 5
        await settle(pilot)
        assert pilot.app.screen is dialog  # still open: nothing changed
        reason = str(dialog.query_one("#reason", Static).render())
        assert reason == (  # groups are found again before the change: it is gone
            "refused: no node group 'prod-cpu' in this environment (node groups: prod-gpu)"
        )


async def test_what_rbac_forbids_is_unknown_not_none(cluster: FakeKube) -> None:
    cluster.forbidden.update({"nodes", "pods"})
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_nodes(pilot)
        status = str(screen.query_one("#cluster-status", Static).render())
        assert "nodes unknown (not allowed to list them)" in status
        assert "0 nodes" not in status
        assert "not allowed to list nodes (RBAC)" in status  # the note says why
        pending = str(screen.query_one("#pending", Static).render())
        assert pending == "unknown (not allowed to list pods)"
