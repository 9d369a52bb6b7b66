"""A yes/no question with its consequences in words (discard a draft, mark a release as in
production). The safe answer is chosen at first; Enter takes the chosen line, Esc is no."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from sygesikring_tui.i18n import t

from .choice_lines import ChoiceLines
from .dialogs import Words, words
from .widgets import Guarded, KeyBar, training_tag


class ChoiceDialog(Guarded, ModalScreen[str | None]):
    """A question, its text and a few answers (value, label-text function); the first answer
    is chosen at first and is the safe one. Dismisses with the value, or None on Esc."""

    HELP_KEY = "help.confirm"
    DEFAULT_CSS = """
    ChoiceDialog { align: center middle; }
    ChoiceDialog > Vertical { width: 78; max-width: 100%; height: auto; max-height: 100%;
                              border: thick $warning; background: $surface; padding: 0 1; }
    ChoiceDialog #choice-title { text-style: bold; width: 100%; }
    ChoiceDialog #choice-text { width: 100%; margin: 1 0; }
    ChoiceDialog KeyBar { dock: none; margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape", "cancel", show=False, id="confirm.cancel"),
                Binding("f1", "app.help", show=False, id="confirm.help")]  # (a modal stops the app's F1)

    def __init__(self, title: Words, text: Words, answers: Sequence[tuple[str, Callable[[], str]]]) -> None:
        super().__init__()
        self._title = title
        self._text = text
        self._answers = list(answers)

    def _options(self) -> list[tuple[str, str]]:
        return [(value, label()) for value, label in self._answers]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{words(self._title)}{training_tag(self.app)}", id="choice-title")
            yield Static(words(self._text), id="choice-text", markup=False)
            yield ChoiceLines(self._options(), id="choice-answers")
            yield KeyBar([("↑/↓", "confirm.key.choose"), ("↵", "confirm.key.take"), ("Esc", "close.key.cancel"),
                          ("F1", "ui.help")],
                         id="choice-keys")

    def on_mount(self) -> None:
        self.query_one(ChoiceLines).focus()

    def refresh_texts(self) -> None:
        self.query_one("#choice-title", Label).update(f"{words(self._title)}{training_tag(self.app)}")
        self.query_one("#choice-text", Static).update(words(self._text))
        self.query_one(ChoiceLines).set_labels(self._options())

    def on_choice_lines_submitted(self, event: ChoiceLines.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def confirm(title: Words, text: Words, yes_key: str) -> ChoiceDialog:
    """A yes/no question: "no" (Fortryd) first, then ``yes_key``'s text."""
    return ChoiceDialog(title, text, [("no", lambda: t("confirm.no")), ("yes", lambda: t(yes_key))])
