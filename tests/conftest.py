"""Fixtures shared by several test areas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from tests.helpers.examples import copy_example


@pytest.fixture
def example_copy(tmp_path: Path) -> Callable[[str], Path]:
    """A writable copy of examples/<name> in the test's tmp_path (to edit or break it)."""
    return lambda name: copy_example(name, tmp_path)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """A local AWS endpoint (moto in server mode) on 127.0.0.1: real HTTP for boto3."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
