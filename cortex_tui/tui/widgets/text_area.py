"""A TextArea whose keys apply in the order they were typed.

Textual inserts a printable key in the TextArea's key handler at once, but runs a bound key
(arrows, home / end, backspace, undo...) only after the event has bubbled up to the app. Keys
arriving together (a fast typist, a loaded machine, tmux send-keys) then land out of order:
"↓ end ⌫ 0" put the 0 on the line the cursor started on (Textual issue #6605). Here the
widget's own bindings run in its key handler, in arrival order, like the printable keys.
"""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea


class OrderedTextArea(TextArea):
    async def _on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if binding.priority:
                continue  # priority bindings already ran before the key reached the widget
            if await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()  # TextArea's own handler must not see it again
                return
