"""ApiSpec.from_dict is the inverse of to_dict: what a target stored reads back as the spec."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from cortex_tui.config import load_project
from cortex_tui.config.model import ApiSpec, Compute
from cortex_tui.kube.render import pod_config
from tests.helpers.examples import EXAMPLES

SPECS = [spec for folder in sorted(EXAMPLES.iterdir()) if (folder / "cortex.yaml").is_file()
         for spec in load_project(folder).apis]


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_every_example_api_round_trips(spec: ApiSpec) -> None:
    assert ApiSpec.from_dict(spec.to_dict()) == replace(spec, line=0)  # line is not stored


def test_an_explicit_target_in_flight_and_quantities_read_back() -> None:
    spec = ApiSpec("a", "predictor.py", Compute(cpu=Decimal("0.25"), mem=128 * 2**20,
                                                 threads_per_replica=4, target_in_flight=2.5))
    assert ApiSpec.from_dict(spec.to_dict()).compute == spec.compute
    # the Kubernetes annotation: sizes as quantities, no autoscaling keys (their defaults)
    annotated = ApiSpec.from_dict(pod_config(spec))
    assert (annotated.compute.mem, annotated.compute.cpu) == (128 * 2**20, Decimal("0.25"))
    assert annotated.compute.target_in_flight is None


def test_an_older_record_without_the_in_flight_keys_gets_their_defaults() -> None:
    old = {"name": "a", "python": {"inference": "p.py"},
           "compute": {"min_replicas": 2, "max_replicas": 5, "cpu": "1", "mem": None}}
    spec = ApiSpec.from_dict(old)
    assert (spec.compute.min_replicas, spec.compute.autoscale_on, spec.tracker) == (2, "cpu", None)
