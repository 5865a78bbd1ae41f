from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.predictor_process import Predictor, make_project

ECHO = """
def predict(sample, metadata):
    return sample
"""


@pytest.fixture
def start_predictor() -> Iterator[Callable[..., Predictor]]:
    """start_predictor(project, **kw) -> Predictor (not yet waited on); killed on teardown."""
    started: list[Predictor] = []

    def start(project: Path, **kwargs: Any) -> Predictor:
        proc = Predictor(project, **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """project(inference_source, **make_project kwargs) -> a tmp project folder."""
    counter = iter(range(1000))

    def make(inference: str = ECHO, **kwargs: Any) -> Path:
        return make_project(tmp_path / f"project{next(counter)}", inference, **kwargs)

    return make
