"""Enter on an API: overview, metrics plots (redrawn only on change), logs, predict."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import RichLog, Static, TextArea

from cortex_tui.tui.screens.detail import DetailScreen
from cortex_tui.tui.widgets.log_view import LogPanel
from cortex_tui.tui.widgets.plots import MIN_REDRAW_INTERVAL, ThrottledPlot
from tests.helpers.fake_backend import FIXED_NOW
from tests.tui.conftest import SIZE, settle
from tests.tui.scenes import footer_keys, wait_until


async def open_detail(pilot, api: str = "iris-classifier", tab: str = "overview") -> DetailScreen:
    await settle(pilot)
    pilot.app.open_api(api, tab=tab)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DetailScreen)
    if tab == "logs":
        await wait_until(pilot, lambda: len(log_lines(screen)) >= 21)
    return screen


def text_of(screen: DetailScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def log_lines(screen: DetailScreen) -> list[str]:
    return [strip.text for strip in screen.query_one(RichLog).lines]


async def test_overview_shows_status_endpoint_compute_and_events(make_app) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_detail(pilot, "sentiment-analyzer")
        body = screen.query_one("#overview-body", Static)
        assert screen.snapshot is not None and screen.snapshot.state.status == "error"
        lines = "\n".join(
            str(line.text) for line in body.render_lines(body.region.reset_offset)
        )
        assert "No module named 'torch'" in lines
        assert "http://127.0.0.1:8892/predict" in lines
        assert "deployed" in lines and "scaled to 2 replicas" in lines


async def test_plots_redraw_only_when_data_changed(make_app, fake) -> None:
    now = [FIXED_NOW]
    fake.clock = lambda: now[0]
    async with make_app(clock=lambda: now[0]).run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, tab="metrics")
        plot = screen.query_one("#plot-replicas", ThrottledPlot)
        tracker = screen.query_one("#plot-tracker", ThrottledPlot)
        assert plot.draws == 1 and tracker.draws == 1
        screen.refresh_data()
        await settle(pilot)
        assert plot.draws == 1  # same data: no rebuild
        now[0] += 5  # a new sample arrives
        screen.refresh_data()
        await wait_until(pilot, lambda: plot.draws == 2, timeout=MIN_REDRAW_INTERVAL + 5)
        # history is fetched incrementally and kept
        sinces = [c.args[1] for c in fake.called("metrics")]
        assert sinces[0] is None and sinces[-1] == FIXED_NOW
        points = screen.snapshot.metrics.points
        assert len(points) == 61 and points[-1].t == FIXED_NOW + 5
        assert tracker.draws == 1  # totals unchanged


async def test_logs_follow_filter_with_highlight_and_wrap(make_app, fake) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, tab="logs")
        assert len(log_lines(screen)) == 21
        assert footer_keys(pilot)["escape"] == "Back"
        await pilot.press("slash", "w", "a", "r", "n")
        assert footer_keys(pilot)["escape"] == "Clear filter"
        lines = log_lines(screen)
        assert lines == ["iris-classifier-1 WARNING tracker: value 'x' is not a number"]
        await pilot.press("enter", "w")
        panel = screen.query_one(LogPanel)
        assert panel.wrap and screen.query_one(RichLog).wrap
        await pilot.press("f")
        assert not panel.follow
        await pilot.press("escape")  # clears the filter
        assert len(log_lines(screen)) == 21 and panel.needle == ""
        assert footer_keys(pilot)["escape"] == "Back"
        fake.add_log("iris-classifier", "POST /predict 500 prediction failed")
        await wait_until(pilot, lambda: len(log_lines(screen)) == 22)
        assert log_lines(screen)[-1].endswith("POST /predict 500 prediction failed")
        await pilot.press("escape")  # then leaves
        assert not isinstance(pilot.app.screen, DetailScreen)


async def test_predict_sends_the_sample_and_shows_the_response(make_app, fake, iris) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, tab="predict")
        sample = json.loads((Path(iris).parent / "sample.json").read_text())
        assert json.loads(screen.query_one("#sample", TextArea).text) == sample
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert fake.called("predict")[-1].args == ("iris-classifier", sample, False)
        assert "HTTP 200" in text_of(screen, "#predict-status")
        assert "label" in text_of(screen, "#response")
        await pilot.press("ctrl+g", "ctrl+r")
        await settle(pilot)
        assert fake.called("predict")[-1].args[2] is True


async def test_predict_refuses_invalid_json(make_app, fake) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, tab="predict")
        screen.query_one("#sample", TextArea).text = "{oops"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "not valid JSON: line 1 column 2" in text_of(screen, "#predict-status")
    assert fake.called("predict") == []


async def test_detail_closes_when_the_api_disappears(make_app, fake) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot)
        fake.delete("iris-classifier")
        screen.refresh_data()
        await settle(pilot)
        assert not isinstance(pilot.app.screen, DetailScreen)
        assert any("not deployed" in n.message for n in pilot.app._notifications)


async def test_reopening_logs_reuses_the_follower_and_its_history(make_app, fake) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, tab="logs")
        first = screen.query_one(LogPanel).follower
        await pilot.press("escape")
        fake.add_log("iris-classifier", "line while away")
        screen = await open_detail(pilot, tab="logs")
        assert screen.query_one(LogPanel).follower is first
        await wait_until(pilot, lambda: len(log_lines(screen)) == 22)
        assert log_lines(screen)[-1].endswith("line while away")
    assert len(fake.called("logs")) == 1


async def test_scale_and_delete_from_the_detail_screen(make_app, fake) -> None:
    from cortex_tui.tui.screens.confirm import ConfirmScreen
    from cortex_tui.tui.screens.scale import ScaleScreen

    async with make_app().run_test(size=SIZE) as pilot:
        await open_detail(pilot, "housing-regressor")
        await pilot.press("s")
        scale = pilot.app.screen
        assert isinstance(scale, ScaleScreen) and scale.api == "housing-regressor"
        assert scale.values["min_replicas"] == 2 and scale.values["max_replicas"] == 6
        await pilot.press("escape", "ctrl+d")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, DetailScreen)  # the API is gone
    assert [c.args for c in fake.called("delete")] == [("housing-regressor",)]


async def test_predict_tab_keys_work_until_the_sample_is_edited(make_app, fake) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, tab="predict")
        sample = screen.query_one("#sample", TextArea)
        before = sample.text
        assert not sample.has_focus  # arriving does not start editing: tab keys work
        assert footer_keys(pilot)["enter"] == "Edit sample"
        await pilot.press("m")
        await settle(pilot)
        assert screen.query_one("#tabs").active == "metrics"
        await pilot.press("p", "enter")  # back to predict, then edit
        await settle(pilot)
        assert sample.has_focus
        assert footer_keys(pilot)["escape"] == "Done editing"
        assert "enter" not in footer_keys(pilot)  # enter is a new line here
        await pilot.press("m")  # typed into the sample
        assert sample.text != before and screen.query_one("#tabs").active == "predict"
        await pilot.press("escape")  # leaves the sample, stays on the tab
        await settle(pilot)
        assert not sample.has_focus and pilot.app.screen is screen
        assert footer_keys(pilot)["escape"] == "Back"
        await pilot.press("m")  # a tab key again, and it stays there
        await settle(pilot)
        assert screen.query_one("#tabs").active == "metrics"
        await pilot.press("p", "escape")  # a second escape goes back
        await settle(pilot)
        assert not isinstance(pilot.app.screen, DetailScreen)


async def test_leaving_the_debug_checkbox_for_another_tab_does_not_bounce_back(make_app) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, tab="predict")
        screen.query_one("#debug").focus()
        await settle(pilot)
        for tab in ("overview", "logs", "metrics"):
            await pilot.press("p")
            await settle(pilot)
            screen.query_one("#debug").focus()
            await settle(pilot)
            await pilot.press(tab[0])
            await settle(pilot)
            assert screen.query_one("#tabs").active == tab


async def test_plots_do_not_redraw_when_only_the_clock_moved(make_app, fake) -> None:
    now = [FIXED_NOW]  # the app's clock moves, the backend has no new sample
    async with make_app(clock=lambda: now[0]).run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, tab="metrics")
        plots = [screen.query_one(f"#plot-{n}", ThrottledPlot) for n in ("replicas", "traffic")]
        assert [p.draws for p in plots] == [1, 1]
        for _ in range(3):
            now[0] += 1
            screen.refresh_data()
            await settle(pilot)
        assert [(p.draws, p._scheduled) for p in plots] == [(1, False), (1, False)]


async def test_only_the_tab_in_view_is_drawn(make_app) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, tab="overview")
        plot = screen.query_one("#plot-replicas", ThrottledPlot)
        assert plot.draws == 0  # hidden: no plotext figure built
        await pilot.press("m")
        await settle(pilot)
        assert plot.draws == 1


async def test_gpu_replicas_show_their_devices_and_the_metrics_tab_plots_gpu_load(
    make_app, fake
) -> None:
    fake.gpu_apis = {"fraud-detector"}
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "fraud-detector")
        body = screen.query_one("#overview-body", Static)
        lines = "\n".join(str(line.text) for line in body.render_lines(body.region.reset_offset))
        assert "fraud-detector-v1-000000: gpu 0 · 40% busy · 3.0 GiB used" in lines, lines
        header = str(screen.query_one("#header").render())
        assert "2 gpu (NVIDIA L4, 24.0 GiB)" in header, header
        await pilot.press("m")
        await settle(pilot)
        gpu = screen.query_one("#plot-gpu", ThrottledPlot)
        assert gpu.display and gpu.draws == 1
        pilot.app.pop_screen()
        await settle(pilot)
        other = await open_detail(pilot, "iris-classifier", tab="metrics")
        assert not other.query_one("#plot-gpu", ThrottledPlot).display


async def test_a_model_apis_inputs_show_and_prefill_the_predict_sample(
    make_app, fake, iris: Path
) -> None:
    (iris.parent / "sample.json").unlink()  # no sample of the project's own
    fake.signatures = {"iris-classifier": {
        "input": {"shape": [None, 4], "type": "float32"}}}
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "iris-classifier")
        body = screen.query_one("#overview-body", Static)
        lines = "\n".join(str(line.text) for line in body.render_lines(body.region.reset_offset))
        assert "inputs" in lines and "input  [?, 4]  float32" in lines, lines
        sample = screen.query_one("#sample", TextArea)
        assert json.loads(sample.text) == [0.0, 0.0, 0.0, 0.0]  # the replica adds the batch axis
    fake.signatures = {"iris-classifier": {
        "a": {"shape": [None, 2], "type": "float32"}, "b": {"shape": [None], "type": "str"}}}
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "iris-classifier", tab="predict")
        assert json.loads(screen.query_one("#sample", TextArea).text) == {"a": [0.0, 0.0], "b": ""}
