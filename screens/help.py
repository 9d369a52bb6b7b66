"""F1: help for the current screen. Each screen names its help text by ``HELP_KEY`` (an i18n
key); a screen without one gets the general help."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from sygesikring_tui.i18n import t

from .widgets import Guarded, training_tag


def help_key_for(screen: Screen) -> str:
    """The i18n key of ``screen``'s help: its ``HELP_KEY``, or the general help."""
    key = getattr(screen, "HELP_KEY", None)
    if callable(getattr(screen, "help_key", None)):
        key = screen.help_key()  # type: ignore[attr-defined]
    return key or "help.general"


def help_text_for(screen: Screen) -> str:
    """A screen may supply its own help text (``help_text()``), e.g. a wizard step."""
    fn = getattr(screen, "help_text", None)
    if callable(fn):
        text = fn()
        if text:
            return str(text)
    return t(help_key_for(screen))


class HelpScreen(Guarded, ModalScreen[None]):
    HELP_KEY = "help.help"
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 78; max-width: 100%; height: 22; max-height: 100%;
                            border: thick $accent; background: $surface; }
    HelpScreen #help-title { text-style: bold; padding: 0 1; width: 100%; }
    HelpScreen VerticalScroll { height: 1fr; padding: 0 1; }
    HelpScreen #help-keys { color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "close", show=False, id="help.close"),
        Binding("f1", "close", show=False, id="help.close_f1"),
        Binding("q", "close", show=False, id="help.close_q"),
        Binding("j,down", "scroll_down", show=False, id="help.down"),
        Binding("k,up", "scroll_up", show=False, id="help.up"),
    ]

    def __init__(self, title: str, text: str, *, texts: Callable[[], tuple[str, str]] | None = None) -> None:
        """``texts`` (optional) gives (title, text) again in the language of the moment."""
        super().__init__()
        self._title = title
        self._text = text
        self._texts = texts

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{t('help.title')}: {self._title}{training_tag(self.app)}", id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(self._text, id="help-text", markup=False)
            yield Label(t("help.close_keys"), id="help-keys")

    def refresh_texts(self) -> None:
        if self._texts is not None:
            self._title, self._text = self._texts()
        self.query_one("#help-title", Label).update(f"{t('help.title')}: {self._title}{training_tag(self.app)}")
        self.query_one("#help-text", Static).update(self._text)
        self.query_one("#help-keys", Label).update(t("help.close_keys"))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll_down(self) -> None:
        self.query_one("#help-scroll", VerticalScroll).scroll_down(animate=False)

    def action_scroll_up(self) -> None:
        self.query_one("#help-scroll", VerticalScroll).scroll_up(animate=False)
