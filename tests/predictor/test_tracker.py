"""SPEC §5: what the tracker counts, and that an unfit value never fails a request."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from predictor.tracker import REGRESSION_BOUNDS, Tracker, trimmed_histogram
from tests.helpers.predictor_process import Predictor

WARNING = "tracker: value not tracked"


def test_classification_counts_str_and_int_and_warns_on_the_rest(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    root = project(tracker={"model_type": "classification", "key": "v"})
    replica = start_predictor(root).wait_ready()
    fits = [{"v": "cat"}, {"v": "cat"}, {"v": 3}, {"v": "3"}]
    unfit = [{"v": 2.5}, {"v": True}, {"v": None}, {"other": "cat"}, ["v", "cat"], "cat"]
    for sample in fits + unfit:
        resp = replica.post(sample)
        assert resp.status == 200, (sample, resp)
        assert resp.json() == sample
    stats = replica.get("/stats").json()
    assert stats["class_distribution"] == {"cat": 2, "3": 2}
    assert stats["regression_stats"] is None
    assert stats["network_stats"]["code_2xx"] == len(fits) + len(unfit)
    replica.wait_line(r"no key 'v'")
    warnings = [line for line in replica.lines if WARNING in line]
    assert len(warnings) == len(unfit)
    assert all(" WARNING " in line for line in warnings)
    assert any("not an object with key 'v'" in line for line in warnings)


def test_classification_without_key_tracks_the_response_itself(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    root = project(tracker={"model_type": "classification"})
    replica = start_predictor(root).wait_ready()
    for sample in ["spam", "ham", "spam", 1, {"label": "spam"}]:
        assert replica.post(sample).status == 200
    assert replica.get("/stats").json()["class_distribution"] == {"spam": 2, "ham": 1, "1": 1}


def test_regression_min_max_avg_count_and_histogram(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    root = project(tracker={"model_type": "regression", "key": "price"})
    replica = start_predictor(root).wait_ready()
    for value in [1.5, 3, 250000.0, -2]:
        assert replica.post({"price": value}).status == 200
    for bad in [{"price": True}, {"price": "12"}, {"cost": 1.0}, 7.0]:
        assert replica.post(bad).status == 200
    stats = replica.get("/stats").json()["regression_stats"]
    assert stats["min"] == -2
    assert stats["max"] == 250000.0
    assert stats["avg"] == pytest.approx((1.5 + 3 + 250000.0 - 2) / 4)
    assert stats["sample_count"] == 4
    histogram = stats["histogram"]
    assert sum(count for _, count in histogram) == 4
    # Buckets are [upper_bound, count] with increasing bounds; each value in its bucket.
    bounds = [b for b, _ in histogram]
    assert bounds == sorted(bounds)
    assert [1.5, 1] in histogram  # 1.5 in (1, 1.5]
    assert [3, 1] in histogram  # 3 in (2, 3]
    assert [300000.0, 1] in histogram  # 250000 in (200000, 300000]
    assert [-2, 1] in histogram  # -2 in (-3, -2]
    assert replica.get("/stats").json()["class_distribution"] is None
    replica.wait_line(r"no key 'price'")
    assert sum(WARNING in line for line in replica.lines) == 4


def test_no_tracker_means_no_tracker_stats(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    replica = start_predictor(project()).wait_ready()
    assert replica.post({"x": 1}).status == 200
    stats = replica.get("/stats").json()
    assert stats["class_distribution"] is None and stats["regression_stats"] is None


def test_histogram_keeps_a_lower_edge_and_an_open_last_bucket() -> None:
    t = Tracker("regression", None)
    for value in (0.0016, 1e12):
        t.observe(value)
    histogram = t.regression_stats()["histogram"]
    assert histogram[0] == [0.0015, 0]  # the empty bucket whose bound is the lower edge
    assert histogram[1] == [0.002, 1]
    assert histogram[-1] == [None, 1]  # above the last bound: +inf
    assert trimmed_histogram(REGRESSION_BOUNDS, [0] * (len(REGRESSION_BOUNDS) + 1)) == []


def test_too_many_distinct_classes_are_refused_not_grown_forever() -> None:
    t = Tracker("classification", None)
    for i in range(1200):
        t.observe(f"class-{i}")
    assert len(t.classes) == 1000
    assert t.rejected == 200


def test_values_whose_sum_would_overflow_are_refused_and_stats_stay_valid_json(
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    replica = start_predictor(project(tracker={"model_type": "regression"})).wait_ready()
    for value in (1e308, 1.5e308, -1e308, 2.0):
        assert replica.post(value).status == 200
    stats = replica.get("/stats")
    assert stats.status == 200
    regression = stats.json()["regression_stats"]
    assert regression["sample_count"] == 3  # 1.5e308 did not fit: the sum would be inf
    assert (regression["min"], regression["max"]) == (-1e308, 1e308)
    assert regression["avg"] == pytest.approx(2.0 / 3)
    assert replica.get("/metrics").status == 200
    replica.wait_line(r"tracker: value not tracked: the sum of tracked values would overflow")


NUMPY_LIKE = """
class Scalar:  # what a numpy scalar (np.int64, np.float32) looks like to the predictor
    ndim = 0

    def __init__(self, value):
        self.value = value

    def tolist(self):
        return self.value


def predict(sample, metadata):
    return {"v": Scalar(sample)}
"""


@pytest.mark.parametrize("model_type, samples, expected", [
    ("classification", [2, 2, "cat", True], {"class_distribution": {"2": 2, "cat": 1}}),
    ("regression", [1.5, 2, False], {"regression_stats": 2}),
])
def test_numpy_scalars_are_tracked_as_the_values_they_answer(
    model_type: str, samples: list, expected: dict,
    project: Callable[..., Path], start_predictor: Callable[..., Predictor]
) -> None:
    root = project(NUMPY_LIKE, tracker={"model_type": model_type, "key": "v"})
    replica = start_predictor(root).wait_ready()
    for sample in samples:
        resp = replica.post(sample)
        assert resp.json() == {"v": sample}
    stats = replica.get("/stats").json()
    if model_type == "classification":
        assert stats["class_distribution"] == expected["class_distribution"]
    else:
        assert stats["regression_stats"]["sample_count"] == expected["regression_stats"]
        assert stats["regression_stats"]["max"] == 2
    replica.wait_line(WARNING)  # the bool is still refused
