"""Monitoring the local target as a user would: a real Prometheus scraping every replica
through the operator's file_sd file, and the README's PromQL checked against what was sent."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cortex_tui.local.backend import post_json
from tests.helpers.prometheus import Prometheus
from tests.local.conftest import Local, wait_for

MODEL = """
def predict(sample, metadata):
    return sample
"""
TWO_APIS = """
- kind: api
  name: classes
  python:
    inference: inference.py
  tracker:
    model_type: classification
  compute:
    min_replicas: 2
    max_replicas: 2
- kind: api
  name: values
  python:
    inference: inference.py
  tracker:
    model_type: regression
"""
# The README's queries (section "Monitoring with Prometheus"), for these API names.
REQUESTS = 'sum(cortex_requests_total{api="classes"})'
RATE = 'sum by (status_class) (rate(cortex_requests_total{api="classes"}[1m]))'
P99 = ('histogram_quantile(0.99, sum by (le) '
       '(rate(cortex_request_duration_seconds_bucket{api="classes"}[1m])))')
SHARES = ('sum by (class) (cortex_prediction_class_total{api="classes"}) / ignoring (class) '
          'group_left sum(cortex_prediction_class_total{api="classes"})')
AVERAGE = ('sum(rate(cortex_prediction_value_sum{api="values"}[1m])) / '
           'sum(rate(cortex_prediction_value_count{api="values"}[1m]))')


def _project(root: Path) -> Path:
    root.mkdir()
    (root / "inference.py").write_text(MODEL)
    (root / "cortex.yaml").write_text(TWO_APIS)
    return root


def test_prometheus_scrapes_every_replica_through_file_sd(local: Local, tmp_path: Path) -> None:
    root = _project(tmp_path / "project")
    assert local.cli("deploy", "-p", str(root)).returncode == 0
    classes = local.wait_status("classes", "live", available=2)
    values = local.wait_status("values", "live", available=1)

    # get -o json lists every replica's admin URL; the file_sd file has the same, labelled.
    listed = json.loads(local.cli("get", "classes", "-o", "json").stdout)["replicas"]
    assert len(listed) == 2 and all(r["state"] == "ready" for r in listed)
    groups = json.loads(local.state.scrape_targets.read_text())
    by_replica = {g["labels"]["replica"]: g for g in groups}
    assert {g["labels"]["api"] for g in groups} == {"classes", "values"} and len(groups) == 3
    for replica in listed:
        group = by_replica[replica["name"]]
        assert f"http://{group['targets'][0]}" == replica["admin_url"]
        assert group["labels"] == {"api": "classes", "replica": replica["name"], "version": "1"}

    prometheus = Prometheus(tmp_path / "prometheus", [{
        "job_name": "cortex-tui-local", "honor_labels": True,
        "file_sd_configs": [{"files": [str(local.state.scrape_targets)]}],
    }])
    try:
        wait_for(lambda: prometheus.scalar('count(up{job="cortex-tui-local"} == 1)') == 3,
                 30, "prometheus scraping the 3 replicas")
        sent = ["cat"] * 6 + ["dog"] * 3
        for sample in sent:  # a new connection each: the kernel spreads them over replicas
            assert post_json(classes.endpoint, sample, False).status == 200
        for value in (1.0, 2.0, 6.0):
            assert post_json(values.endpoint, value, False).status == 200
        wait_for(lambda: prometheus.scalar(REQUESTS) == len(sent)
                 and prometheus.scalar('sum(cortex_prediction_value_count{api="values"})') == 3,
                 30, "every request counted by prometheus")

        shares = {r["metric"]["class"]: r["value"] for r in prometheus.query(SHARES)}
        assert shares == pytest.approx({"cat": 6 / 9, "dog": 3 / 9})
        assert prometheus.scalar(AVERAGE) == pytest.approx(3.0)
        rates = {r["metric"]["status_class"]: r["value"] for r in prometheus.query(RATE)}
        assert len(sent) <= rates["2xx"] * 60 <= 2 * len(sent) and rates["5xx"] == 0
        p99 = prometheus.scalar(P99)
        assert p99 is not None and 0 < p99 <= 2.5
        answered = prometheus.query('cortex_replica_info{api="classes"}')
        assert {r["metric"]["replica"] for r in answered} == set(by_replica) - {
            g["labels"]["replica"] for g in groups if g["labels"]["api"] == "values"}
    finally:
        prometheus.close()


def test_a_rollout_leaves_the_replaced_versions_classes_behind(local: Local,
                                                               tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "inference.py").write_text(MODEL)
    config = ("- kind: api\n  name: classes\n  python:\n    inference: inference.py\n"
              "  tracker:\n    model_type: classification\n")
    (root / "cortex.yaml").write_text(config)
    assert local.cli("deploy", "-p", str(root)).returncode == 0
    endpoint = local.wait_status("classes", "live", available=1).endpoint
    for _ in range(2):
        assert post_json(endpoint, "old-model-class", False).status == 200
    assert local.state_of("classes").tracker.class_distribution == {"old-model-class": 2}

    (root / "cortex.yaml").write_text(config + "  metadata:\n    model: v2\n")
    assert local.cli("deploy", "-p", str(root)).returncode == 0
    wait_for(lambda: [r.version for r in local.state_of("classes").replicas] == [2], 30,
             "the version 1 replica gone")
    assert post_json(endpoint, "new-model-class", False).status == 200

    def totals() -> tuple[dict[str, int], int] | None:
        state = local.state_of("classes")
        return dict(state.tracker.class_distribution), state.network.total

    # Requests keep counting across versions; classes are the current version's only.
    wait_for(lambda: totals() == ({"new-model-class": 1}, 3), 15, "totals after the rollout")
    def stored() -> str:  # written by the operator's periodic scrape, maybe not yet
        with sqlite3.connect(local.state.history) as db:
            return " ".join(row[0] for row in db.execute("SELECT stats FROM replica_stats"))

    wait_for(lambda: "new-model-class" in stored(), 10, "the next scrape stored")
    assert "old-model-class" not in stored()
