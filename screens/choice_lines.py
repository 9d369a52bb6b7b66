"""A short list of choices, one per line, whose chosen line says so in text: "(x) Dublet"
next to "( ) Ikke relevant" (never colour alone). ↑/↓ (or j/k) change the choice at once;
Enter posts :class:`ChoiceLines.Submitted` (the dialog moves on). For a handful of
options (close reasons, a person's open tasks or follow-ups), not for long lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class ChoiceLines(Widget, can_focus=True):
    DEFAULT_CSS = """
    ChoiceLines { height: auto; width: 100%; padding: 0 1; }
    ChoiceLines:focus { background: $boost; }
    """
    BINDINGS = [
        Binding("up,k", "move(-1)", show=False, id="choice.previous"),
        Binding("down,j", "move(1)", show=False, id="choice.next"),
        Binding("enter", "submit", show=False, id="choice.submit"),
    ]
    index: reactive[int] = reactive(0)

    class Changed(Message):
        def __init__(self, lines: ChoiceLines, value: str) -> None:
            super().__init__()
            self.lines = lines
            self.value = value

    class Submitted(Message):
        def __init__(self, lines: ChoiceLines, value: str) -> None:
            super().__init__()
            self.lines = lines
            self.value = value

    def __init__(self, options: Sequence[tuple[str, str]], value: str | None = None, **kwargs: Any) -> None:
        """``options``: (value, label) pairs; ``value`` the one chosen at first."""
        super().__init__(**kwargs)
        self.options = list(options)
        values = [v for v, _l in self.options]
        self.set_reactive(ChoiceLines.index, values.index(value) if value in values else 0)

    @property
    def value(self) -> str:
        return self.options[self.index][0] if self.options else ""

    def set_labels(self, options: Sequence[tuple[str, str]]) -> None:
        """New labels (a language switch), the same values and choice."""
        self.options = list(options)
        self.refresh(layout=True)

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, (_v, label) in enumerate(self.options):
            if i:
                text.append("\n")
            chosen = i == self.index
            text.append("(x) " if chosen else "( ) ", style="bold" if chosen else "")
            text.append(label, style="bold" if chosen else "")
        return text

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return max(len(self.options), 1)

    def action_move(self, delta: int) -> None:
        if self.options:
            self.index = (self.index + delta) % len(self.options)

    def watch_index(self, index: int) -> None:
        if self.options:
            self.post_message(self.Changed(self, self.value))

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self, self.value))
