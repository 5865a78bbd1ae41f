"""The one interface every target implements. The values it returns live in `cortex_tui.types`,
its errors in `cortex_tui.errors`.

The CLI and the TUI talk to targets only through `Backend`, which they get from
`cortex_tui.backends.get_backend`. Implementations sit beside their drivers: the local operator
(`cortex_tui.local.backend`) and Kubernetes (`cortex_tui.kube.backend`); they import this
module, never `cortex_tui.backends`. No Textual here.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from cortex_tui.config.model import Project
from cortex_tui.errors import BackendError
from cortex_tui.types import (
    ApiState,
    DeployResult,
    Event,
    LoadTarget,
    LogLine,
    Metrics,
    PredictResult,
    ScaleRequest,
    TargetInfo,
)


class Backend(abc.ABC):
    """One target. Methods block; the TUI calls them from worker threads.

    Every method raises `BackendError` (or a subclass) for problems the user can act on.
    """

    @abc.abstractmethod
    def target_info(self) -> TargetInfo: ...

    @abc.abstractmethod
    def deploy(self, project: Project, force: bool = False) -> DeployResult:
        """Create / update every API of the project, delete APIs of the same deployment that
        the project no longer lists. `force` redeploys unchanged APIs too."""

    @abc.abstractmethod
    def get(self, api: str | None = None) -> list[ApiState]:
        """All APIs (sorted by name), or just one (raises ApiNotFound)."""

    @abc.abstractmethod
    def delete(self, api: str | None = None) -> list[str]:
        """Delete one API, or every API when `api` is None; returns the names deleted."""

    @abc.abstractmethod
    def logs(self, api: str, follow: bool = False, tail: int | None = None) -> Iterator[LogLine]:
        """Lines of every replica; with `follow`, keeps yielding until the iterator is closed."""

    @abc.abstractmethod
    def predict(self, api: str, sample: Any, debug: bool = False) -> PredictResult: ...

    @abc.abstractmethod
    def scale(self, api: str, request: ScaleRequest) -> ApiState:
        """Change autoscaling bounds; refuses (BackendError) values outside the rules."""

    # Whether `load_target` works on this target (the TUI hides the load-test key otherwise).
    supports_load_test: ClassVar[bool] = False

    def load_target(self, api: str) -> AbstractContextManager[LoadTarget]:
        """The API's endpoint for a load test, open for the duration of the `with` block (a
        port-forward is closed when it ends). Raises BackendError when the API cannot answer."""
        raise BackendError("load tests are not available on this target")

    @abc.abstractmethod
    def metrics(self, api: str, since: float | None = None) -> Metrics: ...

    @abc.abstractmethod
    def events(self, api: str | None = None, since: float | None = None) -> list[Event]: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the backend is not used afterwards."""
