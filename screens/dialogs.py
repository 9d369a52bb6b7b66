"""Modal dialogs: a message (errors), a store error screen, a too-small screen and a required
note (dropping a refused sync operation). (The inbox's filter is edited in place: FilterBar.)"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Static

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
    KEYS = "ui.press_enter_to_close"  # the line that says which keys answer
    DEFAULT_CSS = """
    MessageDialog { align: center middle; }
    MessageDialog > Vertical { width: 70; max-width: 100%; height: auto; max-height: 90%;
                               border: thick $error; background: $surface; padding: 1 2; }
    MessageDialog #msg-title { text-style: bold; width: 100%; }
    MessageDialog #msg-text { width: 100%; margin: 1 0; }
    MessageDialog #msg-keys { color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "close", show=False, id="message.close"),
        Binding("escape", "close", show=False, id="message.close_escape"),
    ]

    def __init__(self, title: Words, text: Words) -> None:
        super().__init__()
        self._title = title
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{words(self._title)}{training_tag(self.app)}", id="msg-title")
            yield Static(words(self._text), id="msg-text")
            yield Label(t(self.KEYS), id="msg-keys")

    def refresh_texts(self) -> None:
        self.query_one("#msg-title", Label).update(f"{words(self._title)}{training_tag(self.app)}")
        self.query_one("#msg-text", Static).update(words(self._text))
        self.query_one("#msg-keys", Label).update(t(self.KEYS))

    def action_close(self) -> None:
        self.dismiss(None)


class StoreErrorScreen(Guarded, Screen[None]):
    """Shown instead of the inbox when the store cannot be opened; nothing is written."""

    HELP_KEY = "help.store_error"
    DEFAULT_CSS = """
    StoreErrorScreen { align: center middle; }
    StoreErrorScreen > Vertical { width: 76; max-width: 100%; height: auto; border: thick $error; padding: 1 2; }
    """
    BINDINGS = [Binding("q", "app.quit", show=False, id="store_error.quit"),
                Binding("escape", "app.quit", show=False, id="store_error.quit_escape")]

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
        yield KeyBar([("q", "ui.quit", "store_error.quit"), ("F1", "ui.help", "help")])

    def refresh_texts(self) -> None:
        self.query_one("#store-error-title", Label).update(t("store_error.title"))
        self.query_one("#store-error-text", Static).update(self.message)


class TooSmallScreen(Screen[None]):
    """Covers everything while the terminal is smaller than 80×24."""

    DEFAULT_CSS = """
    TooSmallScreen { align: center middle; background: $background; }
    TooSmallScreen Static { width: 100%; height: auto; text-align: center; text-style: bold; }
    """
    BINDINGS = [Binding("ctrl+q", "app.quit", show=False, id="too_small.quit")]

    def compose(self) -> ComposeResult:
        yield Static(id="too-small-text")

    def on_mount(self) -> None:
        self.refresh_texts()

    def refresh_texts(self) -> None:
        self.query_one("#too-small-text", Static).update(t("ui.too_small", size=f"{self.app.size.width}×{self.app.size.height}"))

    def on_resize(self) -> None:
        self.refresh_texts()


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
    BINDINGS = [Binding("escape", "cancel", show=False, id="note.cancel"),
                Binding("f1", "app.help", show=False, id="note.help")]  # (a modal stops the app's F1)
    # The texts' keys (a subclass asks for another kind of note with its own words).
    PLACEHOLDER_KEY = "sync.drop.placeholder"
    KEYS_KEY = "sync.drop.keys"
    REQUIRED_KEY = "sync.drop.note_required"
    MAX_LENGTH = 0  # 0: no limit

    def __init__(self, title: Words, text: Words) -> None:
        super().__init__()
        self._title = title
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{words(self._title)}{training_tag(self.app)}", id="note-title")
            yield Static(words(self._text), id="note-text")
            yield Input(placeholder=t(self.PLACEHOLDER_KEY), id="note-input", max_length=self.MAX_LENGTH)
            yield Static("", id="note-error")
            yield Label(t(self.KEYS_KEY), id="note-keys")

    def refresh_texts(self) -> None:
        self.query_one("#note-title", Label).update(f"{words(self._title)}{training_tag(self.app)}")
        self.query_one("#note-text", Static).update(words(self._text))
        self.query_one("#note-input", Input).placeholder = t(self.PLACEHOLDER_KEY)
        self.query_one("#note-keys", Label).update(t(self.KEYS_KEY))
        error = self.query_one("#note-error", Static)
        if str(error.render()).strip():
            error.update(t(self.REQUIRED_KEY))

    def on_mount(self) -> None:
        self.query_one("#note-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        note = event.value.strip()
        if not note:
            self.query_one("#note-error", Static).update(t(self.REQUIRED_KEY))
            return
        self.dismiss(note)

    def action_cancel(self) -> None:
        self.dismiss(None)
