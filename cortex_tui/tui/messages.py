"""Typed messages that carry blocking results back to the UI, and the helper that runs them.

Blocking backend calls run in thread workers; a worker never touches widgets, it posts one
message to the node that asked: its own result type (`ApisLoaded`, `Deployed`, ...) or
`ActionFailed`, which names that type. Handlers are chosen by type (`on_deployed`), never by
comparing strings; a failure is recognised by its action and its exception's type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import Worker

from cortex_tui.errors import describe_error

T = TypeVar("T")


class Result(Message):
    """A blocking call finished; `value` is what it returned."""

    FAILED_TITLE: ClassVar[str] = "error"  # the app's notification title when it fails

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


class ActionFailed(Message):
    """A blocking call failed; bubbles up to the app, which shows a notification."""

    def __init__(self, action: type[Result], exc: BaseException) -> None:
        super().__init__()
        self.action = action  # the result type the call would have posted
        self.exc = exc  # screens recognise a failure by its type, never by its text
        self.error = describe_error(exc)


# -- app --------------------------------------------------------------------------------------
class ProjectLoaded(Result):
    """cortex.yaml read again: `value` is the Project, or None without a file."""

    FAILED_TITLE = "cortex.yaml"


class Deployed(Result):
    """F5 deployed the project: `value` is the DeployResult."""

    FAILED_TITLE = "deploy failed"


class Deleted(Result):
    """`value` lists the deleted API names."""


class TargetSwitched(Result):
    """`value` is (env, the connected Backend)."""


# -- screens ----------------------------------------------------------------------------------
class ApisLoaded(Result):
    """`value` is (TargetInfo or None when not asked this time, list of ApiState)."""


class DetailLoaded(Result):
    """`value` is the detail screen's Snapshot of one API."""


class Predicted(Result):
    """`value` is the PredictResult of a sample sent from the predict tab."""


class Validated(Result):
    """`value` is (the validated text, its problems)."""


class Saved(Result):
    """`value` is the text written to cortex.yaml."""


class SavedAndDeployed(Result):
    """The editor's save-and-deploy: `value` is the DeployOutcome."""

    FAILED_TITLE = "deploy failed"


class Scaled(Result):
    """`value` is the ScaleOutcome of the scale dialog."""


class NodeBoundsSet(Result):
    """`value` is what the node-group dialog applied."""


class ClusterLoaded(Result):
    """`value` is the ClusterInfo of the nodes screen."""


class LoadTestPrepared(Result):
    """`value` is the LoadTestRequest the dialog built from the samples."""


class LoadTestFinished(Result):
    """`value` is the finished (or stopped) load test's RunRecord."""


class RunsLoaded(Result):
    """`value` lists the saved RunRecords of an API on a target."""


def run_blocking(
    node: MessagePump,
    result: type[Result],
    fn: Callable[[], Any],
    *,
    exclusive: bool = False,
) -> Worker[None]:
    """Run `fn` in a thread; post `result(value)` or `ActionFailed(result, exc)` to `node`."""

    def job() -> None:
        try:
            value = fn()
        except Exception as exc:
            node.post_message(ActionFailed(result, exc))
        else:
            node.post_message(result(value))

    return node.run_worker(
        job, thread=True, group=result.__name__, exclusive=exclusive, exit_on_error=False
    )


class Poll:
    """A repeated fetch that never runs twice at once: a slow or hung target must not pile up
    threads (a thread worker cannot be cancelled)."""

    def __init__(self, node: MessagePump, result: type[Result]) -> None:
        self.node = node
        self.result = result
        self.worker: Worker[None] | None = None

    def run(self, fn: Callable[[], object]) -> bool:
        if self.worker is not None and not self.worker.is_finished:
            return False
        self.worker = run_blocking(self.node, self.result, fn)
        return True
