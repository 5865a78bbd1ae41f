"""`s`: keyboard scaling through the backend, written back into cortex.yaml with comments."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from cortex_tui.config import load_project
from cortex_tui.tui.screens.apis import ApisScreen
from cortex_tui.tui.screens.scale import ScaleScreen
from cortex_tui.types import ScaleRequest
from tests.tui.conftest import SIZE, settle


async def open_iris_scale(pilot) -> ScaleScreen:
    await settle(pilot)
    await pilot.press("down", "down", "s")  # iris-classifier is the third row
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ScaleScreen) and screen.api == "iris-classifier"
    return screen


def reason(screen: ScaleScreen) -> str:
    return str(screen.query_one("#reason", Static).render())


async def test_dialog_is_prefilled_with_current_values(make_app) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_iris_scale(pilot)
        assert screen.values == {
            "min_replicas": 1, "max_replicas": 5, "init_replicas": 1, "target_cpu_utilization": 80
        }


async def test_nudge_and_enter_scale_and_write_back_keeping_comments(
    make_app, fake, iris: Path
) -> None:
    before = iris.read_text()
    async with make_app().run_test(size=SIZE) as pilot:
        await open_iris_scale(pilot)
        await pilot.press("down", "right", "right", "plus", "minus", "right")  # max 5 -> 8
        await pilot.press("down", "down", "minus", "minus", "minus")  # target 80 -> 77
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ApisScreen)
    assert [c.args for c in fake.called("scale")] == [
        ("iris-classifier", ScaleRequest(max_replicas=8, target_cpu_utilization=77))
    ]
    after = iris.read_text()
    assert after == before.replace("max_replicas: 4", "max_replicas: 8").replace(
        "target_cpu_utilization: 80", "target_cpu_utilization: 77"
    )
    assert "# track the \"label\" field of each response" in after


async def test_digits_type_a_value_and_min_drags_init_in_the_file(
    make_app, fake, iris: Path
) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_iris_scale(pilot)
        await pilot.press("down", "1", "2", "up", "3")  # max 12, min 3
        assert screen.values["max_replicas"] == 12 and screen.values["min_replicas"] == 3
        await pilot.press("enter")
        await settle(pilot)
    request = fake.called("scale")[0].args[1]
    assert request == ScaleRequest(min_replicas=3, max_replicas=12)
    text = iris.read_text()
    assert "min_replicas: 3\n" in text and "max_replicas: 12\n" in text
    # init followed min (rule of apply_scale); the file had no init_replicas and still means it
    assert "init_replicas" not in text
    assert load_project(iris.parent).api("iris-classifier").compute.init_replicas == 3


async def test_values_outside_the_rules_are_refused_before_anything_is_applied(
    make_app, fake, iris: Path
) -> None:
    before = iris.read_text()
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_iris_scale(pilot)
        await pilot.press("9", "enter")  # min 9 > max 5
        await settle(pilot)
        assert pilot.app.screen is screen
        assert "min_replicas (9) must be less than or equal to max_replicas (5)" in reason(screen)
        await pilot.press("backspace", "1", "down", "down", "down", "1", "2", "0", "enter")
        await settle(pilot)
        assert "target_cpu_utilization must be at most 100" in reason(screen)
    assert fake.called("scale") == []
    assert iris.read_text() == before


async def test_escape_cancels_without_calls(make_app, fake, iris: Path) -> None:
    before = iris.read_text()
    async with make_app().run_test(size=SIZE) as pilot:
        await open_iris_scale(pilot)
        await pilot.press("right", "escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ApisScreen)
    assert fake.called("scale") == []
    assert iris.read_text() == before


async def test_backend_refusal_is_shown_and_nothing_written(make_app, fake, iris: Path) -> None:
    fake.fail["scale"] = "the local operator is not running"
    before = iris.read_text()
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_iris_scale(pilot)
        await pilot.press("right", "enter")
        await settle(pilot)
        assert pilot.app.screen is screen
        assert "operator is not running" in reason(screen)
    assert iris.read_text() == before


async def test_api_missing_from_cortex_yaml_scales_with_a_warning(make_app, fake, iris) -> None:
    before = iris.read_text()
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")  # fraud-detector: deployed, not in this cortex.yaml
        await settle(pilot)
        await pilot.press("down", "right", "enter")
        await settle(pilot)
        assert any("not written back" in n.message for n in pilot.app._notifications)
    assert len(fake.called("scale")) == 1
    assert iris.read_text() == before


async def test_keys_typed_in_a_burst_apply_in_order(make_app) -> None:
    """A fast typist: '3', down, '7' '4' backspace sets min 3 and max 7 (digits went to the
    previous field when they overtook the arrow's binding)."""
    from textual import events

    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_iris_scale(pilot)
        keys = (("3", "3"), ("down", None), ("7", "7"), ("4", "4"), ("backspace", None))
        for key, char in keys:
            pilot.app.post_message(events.Key(key, char))  # no pause between keys
        await settle(pilot)
        assert (screen.values["min_replicas"], screen.values["max_replicas"]) == (3, 7)
