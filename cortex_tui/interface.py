"""The one interface every target implements. The values it returns live in `cortex_tui.types`,
its errors in `cortex_tui.errors`.

The CLI and the TUI talk to targets only through `Backend`, which they get from
`cortex_tui.backends.get_backend`. Implementations sit beside their drivers: the local operator
(`cortex_tui.local.backend`) and Kubernetes (`cortex_tui.kube.backend`); they import this
module, never `cortex_tui.backends`. No Textual here.
"""

from __future__ import annotations

import abc
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar

from cortex_tui.config.model import Project
from cortex_tui.errors import BackendError, NotSupported
from cortex_tui.types import (
    ApiState,
    Decision,
    DeployResult,
    Event,
    LoadTarget,
    LogLine,
    Metrics,
    PredictResult,
    ScaleRequest,
    TargetInfo,
)

if TYPE_CHECKING:  # the cluster service imports boto3: only the Kubernetes backend loads it
    from cortex_tui.cluster import ClusterService


class LogStream(Iterator[LogLine]):
    """What `Backend.logs` returns: iterate its lines; `close()` may be called from any thread
    and ends the iteration (a follow within one poll, even while the logs are quiet)."""

    def __init__(self, lines: Iterator[LogLine], wake: Callable[[], None] | None = None) -> None:
        self._lines = lines
        self._wake = wake  # unblocks a reader waiting for the next line
        self._closed = threading.Event()

    def __next__(self) -> LogLine:
        if self._closed.is_set():
            raise StopIteration
        return next(self._lines)

    def close(self) -> None:
        self._closed.set()
        if self._wake is not None:
            self._wake()
        close = getattr(self._lines, "close", None)
        if close is not None:
            # a generator running in another thread refuses; woken, it ends by itself
            with contextlib.suppress(ValueError):
                close()


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
    def logs(self, api: str, follow: bool = False, tail: int | None = None) -> LogStream:
        """Lines of every replica; with `follow`, keeps yielding until the stream is closed."""

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

    @abc.abstractmethod
    def decisions(self, api: str, since: float | None = None) -> list[Decision]:
        """The autoscaler's syncs for one API, oldest first (raises ApiNotFound)."""

    # -- optional capabilities: a flag says whether the target has it; without, the method
    # raises NotSupported saying where it exists (the CLI prints it, the TUI hides the key).
    env_name: str = "local"  # the environment this backend serves, for messages

    supports_cluster: ClassVar[bool] = False

    def cluster(self) -> ClusterService:
        """Node groups, nodes and pods waiting for room (`cluster info|scale`, the nodes page)."""
        raise NotSupported(
            f'environment "{self.env_name}" is not a Kubernetes environment: node groups and '
            "nodes exist only there (use -e with a kubeconfig context or named environment)"
        )

    supports_operator: ClassVar[bool] = False

    def operator_pid(self) -> int | None:
        """`local status`: the running operator's pid; None when it does not run."""
        raise NotSupported(f"the target {self.env_name} has no local operator")

    def operator_info(self) -> dict[str, Any]:
        """The operator's pid, state folder, options and devices (starts it when needed)."""
        raise NotSupported(f"the target {self.env_name} has no local operator")

    def stop_operator(self) -> tuple[bool, int]:
        """`local stop`: (an operator was answering, leftover processes of ours killed)."""
        raise NotSupported(f"the target {self.env_name} has no local operator")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the backend is not used afterwards."""
