"""Messages that carry blocking results back to the UI, and the helper that runs them.

Blocking backend calls run in thread workers; a worker never touches widgets, it posts one
message with the result (or `Failed`) to the node that asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import Worker

from cortex_tui.errors import describe_error

T = TypeVar("T")


class Failed(Message):
    """A blocking call failed; bubbles up to the app, which shows a notification."""

    def __init__(self, group: str, exc: BaseException) -> None:
        super().__init__()
        self.group = group
        self.exc = exc  # screens recognise a failure by its type, never by its text
        self.error = describe_error(exc)


class Done(Message):
    """A blocking call finished: `value` is its result, `group` says which call it was."""

    def __init__(self, group: str, value: Any) -> None:
        super().__init__()
        self.group = group
        self.value = value


def run_blocking(
    node: MessagePump,
    group: str,
    fn: Callable[[], T],
    *,
    exclusive: bool = False,
) -> Worker[None]:
    """Run `fn` in a thread; post `Done(group, result)` or `Failed(group, exc)` to `node`."""

    def job() -> None:
        try:
            value = fn()
        except Exception as exc:
            node.post_message(Failed(group, exc))
        else:
            node.post_message(Done(group, value))

    return node.run_worker(
        job, thread=True, group=group, exclusive=exclusive, exit_on_error=False
    )


class Poll:
    """A repeated fetch that never runs twice at once: a slow or hung target must not pile up
    threads (a thread worker cannot be cancelled)."""

    def __init__(self, node: MessagePump, group: str) -> None:
        self.node = node
        self.group = group
        self.worker: Worker[None] | None = None

    def run(self, fn: Callable[[], object]) -> bool:
        if self.worker is not None and not self.worker.is_finished:
            return False
        self.worker = run_blocking(self.node, self.group, fn)
        return True
