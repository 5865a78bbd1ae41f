"""Server-side batching seen through the local target: the API's metrics carry the batches'
average size from the replicas' /stats, and the TUI's traffic plot shows it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cortex_tui.config import load_project
from cortex_tui.tui.widgets.plots import draw_traffic
from tests.local.conftest import Local, make_project, wait_for

BATCHED = """
def predict(samples, metadata):
    return [{"batch": len(samples)} for _ in samples]
"""


def test_metrics_carry_the_average_batch_size(local: Local, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", BATCHED, name="batched")
    text = (root / "cortex.yaml").read_text().replace(
        "    inference: inference.py\n",
        "    inference: inference.py\n    server_side_batching:\n      max_batch_size: 4\n"
        "      batch_interval: 60s\n")
    (root / "cortex.yaml").write_text(text)
    local.backend.deploy(load_project(root))
    local.wait_status("batched", "live")
    with ThreadPoolExecutor(4) as pool:  # only a full batch answers within the minute
        answers = list(pool.map(lambda i: local.backend.predict("batched", {"i": i}), range(4)))
    assert [a.status for a in answers] == [200] * 4

    def batching():  # get(API) refreshes the totals metrics() returns
        local.backend.get("batched")
        return local.backend.metrics("batched").batching

    stats = wait_for(batching, 10, "batching totals")
    assert (stats.batches, stats.samples, stats.avg_batch_size) == (1, 4, 4.0)
    key, _ = draw_traffic(local.backend.metrics("batched"), 0.0)
    assert key[-1].endswith("avg batch size 4.0")
