"""Modal dialogs: a message (errors), a store error screen, a too-small screen, filter choice,
and a required note (dropping a refused sync operation)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from sygesikring_tui.i18n import t

from .widgets import AppHeader, Guarded, KeyBar, training_tag

# A dialog's text: fixed, or a function that says it in the language of the moment (called
# again by ``refresh_texts`` when ctrl+l switches the language).
Words = str | Callable[[], str]


def words(value: Words) -> str:
    return value() if callable(value) else value


class MessageDialog(Guarded, ModalScreen[None]):
    """A short message the caseworker acknowledges with Enter or Escape."""

    HELP_KEY = "help.message"
    DEFAULT_CSS = """
    MessageDialog { align: center middle; }
    MessageDialog > Vertical { width: 70; max-width: 100%; height: auto; max-height: 90%;
                               border: thick $error; background: $surface; padding: 1 2; }
    MessageDialog #msg-title { text-style: bold; width: 100%; }
    MessageDialog #msg-text { width: 100%; margin: 1 0; }
    MessageDialog #msg-keys { color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "close", show=False),
        Binding("escape", "close", show=False),
    ]

    def __init__(self, title: Words, text: Words) -> None:
        super().__init__()
        self._title = title
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{words(self._title)}{training_tag(self.app)}", id="msg-title")
            yield Static(words(self._text), id="msg-text")
            yield Label(t("ui.press_enter_to_close"), id="msg-keys")

    def refresh_texts(self) -> None:
        self.query_one("#msg-title", Label).update(f"{words(self._title)}{training_tag(self.app)}")
        self.query_one("#msg-text", Static).update(words(self._text))
        self.query_one("#msg-keys", Label).update(t("ui.press_enter_to_close"))

    def action_close(self) -> None:
        self.dismiss(None)


class StoreErrorScreen(Guarded, Screen[None]):
    """Shown instead of the inbox when the store cannot be opened; nothing is written."""

    HELP_KEY = "help.store_error"
    DEFAULT_CSS = """
    StoreErrorScreen { align: center middle; }
    StoreErrorScreen > Vertical { width: 76; max-width: 100%; height: auto; border: thick $error; padding: 1 2; }
    """
    BINDINGS = [Binding("q", "app.quit", show=False), Binding("escape", "app.quit", show=False)]

    def __init__(self, message: Words) -> None:
        super().__init__()
        self._message = message

    @property
    def message(self) -> str:
        return words(self._message)

    def compose(self) -> ComposeResult:
        yield AppHeader("store_error.title")
        with Vertical():
            yield Label(t("store_error.title"), id="store-error-title")
            yield Static(self.message, id="store-error-text")
        yield KeyBar([("q", "ui.quit"), ("F1", "ui.help")])

    def refresh_texts(self) -> None:
        self.query_one("#store-error-title", Label).update(t("store_error.title"))
        self.query_one("#store-error-text", Static).update(self.message)


class TooSmallScreen(Screen[None]):
    """Covers everything while the terminal is smaller than 80×24."""

    DEFAULT_CSS = """
    TooSmallScreen { align: center middle; background: $background; }
    TooSmallScreen Static { width: 100%; height: auto; text-align: center; text-style: bold; }
    """
    BINDINGS = [Binding("ctrl+q", "app.quit", show=False)]

    def compose(self) -> ComposeResult:
        yield Static(id="too-small-text")

    def on_mount(self) -> None:
        self.refresh_texts()

    def refresh_texts(self) -> None:
        self.query_one("#too-small-text", Static).update(t("ui.too_small", size=f"{self.app.size.width}×{self.app.size.height}"))

    def on_resize(self) -> None:
        self.refresh_texts()


class FilterDialog(Guarded, ModalScreen[tuple[str, Any] | None]):
    """Pick one filter value: status, CPR event or workaround. Returns (field, value)."""

    HELP_KEY = "help.filter"
    DEFAULT_CSS = """
    FilterDialog { align: center middle; }
    FilterDialog > Vertical { width: 78; max-width: 100%; height: 20; max-height: 100%;
                              border: thick $accent; background: $surface; }
    FilterDialog Horizontal { height: 1fr; }
    FilterDialog Vertical.filter-col { width: 1fr; height: 100%; }
    FilterDialog #filter-status-col { width: 14; }
    FilterDialog Label { text-style: bold; padding: 0 1; }
    FilterDialog OptionList { height: 1fr; border: none; }
    FilterDialog #filter-keys { color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(self, statuses: Sequence[tuple[str | None, str]], events: Sequence[tuple[str | None, str]],
                 workarounds: Sequence[tuple[str | None, str]], current: dict[str, Any],
                 apply: Callable[[str, Any], None] | None = None,
                 choices: Callable[[], tuple[Sequence[tuple[str | None, str]], ...]] | None = None) -> None:
        """``choices`` (optional) says the three lists again in the language of the moment."""
        super().__init__()
        self._apply = apply
        self._choices = {"status": list(statuses), "event_code": list(events), "workaround_id": list(workarounds)}
        self._current = current
        self._choices_fn = choices

    def compose(self) -> ComposeResult:
        with Vertical():
            with Horizontal():
                for field, label, col_id in (("status", "inbox.col.status", "filter-status-col"),
                                             ("event_code", "inbox.col.event", "filter-event-col"),
                                             ("workaround_id", "inbox.col.workaround", "filter-wa-col")):
                    with Vertical(classes="filter-col", id=col_id):
                        yield Label(t(label))
                        options = [Option(text, id=f"{i}") for i, (_v, text) in enumerate(self._choices[field])]
                        yield OptionList(*options, id=f"filter-{field}")
            yield Label(t("inbox.filter_keys") + training_tag(self.app), id="filter-keys")

    def on_mount(self) -> None:
        for field, choices in self._choices.items():
            ol = self.query_one(f"#filter-{field}", OptionList)
            cur = self._current.get(field)
            idx = next((i for i, (v, _t) in enumerate(choices) if v == cur), 0)
            ol.highlighted = idx
        self.query_one("#filter-status", OptionList).focus()

    def refresh_texts(self) -> None:
        for label, key in zip(self.query("Vertical.filter-col > Label").results(Label),
                              ("inbox.col.status", "inbox.col.event", "inbox.col.workaround")):
            label.update(t(key))
        self.query_one("#filter-keys", Label).update(t("inbox.filter_keys") + training_tag(self.app))
        if self._choices_fn is None:
            return
        for field, fresh in zip(self._choices, self._choices_fn()):
            self._choices[field] = list(fresh)
            ol = self.query_one(f"#filter-{field}", OptionList)
            at = ol.highlighted
            ol.clear_options()
            ol.add_options([Option(text, id=f"{i}") for i, (_v, text) in enumerate(self._choices[field])])
            ol.highlighted = at

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        field = (event.option_list.id or "").removeprefix("filter-")
        value = self._choices[field][int(event.option.id or 0)][0]
        if self._apply is not None:
            self._apply(field, value)
        self.dismiss((field, value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoteDialog(Guarded, ModalScreen[str | None]):
    """Ask for a note that cannot be left empty; Enter confirms, Escape cancels (None)."""

    HELP_KEY = "help.sync_note"
    DEFAULT_CSS = """
    NoteDialog { align: center middle; }
    NoteDialog > Vertical { width: 74; max-width: 100%; height: auto; max-height: 100%;
                            border: thick $warning; background: $surface; padding: 0 1; }
    NoteDialog #note-title { text-style: bold; width: 100%; }
    NoteDialog #note-text { width: 100%; margin: 1 0 0 0; }
    NoteDialog #note-input { width: 100%; margin: 1 0 0 0; }
    NoteDialog #note-error { color: $error; text-style: bold; height: auto; }
    NoteDialog #note-keys { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(self, title: Words, text: Words) -> None:
        super().__init__()
        self._title = title
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{words(self._title)}{training_tag(self.app)}", id="note-title")
            yield Static(words(self._text), id="note-text")
            yield Input(placeholder=t("sync.drop.placeholder"), id="note-input")
            yield Static("", id="note-error")
            yield Label(t("sync.drop.keys"), id="note-keys")

    def refresh_texts(self) -> None:
        self.query_one("#note-title", Label).update(f"{words(self._title)}{training_tag(self.app)}")
        self.query_one("#note-text", Static).update(words(self._text))
        self.query_one("#note-input", Input).placeholder = t("sync.drop.placeholder")
        self.query_one("#note-keys", Label).update(t("sync.drop.keys"))
        error = self.query_one("#note-error", Static)
        if str(error.render()).strip():
            error.update(t("sync.drop.note_required"))

    def on_mount(self) -> None:
        self.query_one("#note-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        note = event.value.strip()
        if not note:
            self.query_one("#note-error", Static).update(t("sync.drop.note_required"))
            return
        self.dismiss(note)

    def action_cancel(self) -> None:
        self.dismiss(None)
