"""Find any person of the store by CPR number (command palette: "Find person (CPR-nr.)"),
also a person without tasks, whom the inbox never lists. The number is validated like every
CPR field (format, date, century; never the checksum) and the message stays at the field."""

from __future__ import annotations

import logging

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from sygesikring_tui.domain import cpr
from sygesikring_tui.i18n import t

from .widgets import Guarded, fmt_cpr, training_tag

log = logging.getLogger(__name__)


class FindPersonDialog(Guarded, ModalScreen[str | None]):
    """Enter opens the person (the dialog returns the CPR number); Escape cancels."""

    HELP_KEY = "help.find_person"
    DEFAULT_CSS = """
    FindPersonDialog { align: center middle; }
    FindPersonDialog > Vertical { width: 60; max-width: 100%; height: auto; max-height: 100%;
                                  border: thick $accent; background: $surface; padding: 0 1; }
    FindPersonDialog #find-title { text-style: bold; width: 100%; margin: 0 0 1 0; }
    FindPersonDialog #find-input { width: 100%; }
    FindPersonDialog #find-error { color: $error; text-style: bold; height: auto; }
    FindPersonDialog #find-keys { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", show=False, id="find_person.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{t('find_person.title')}{training_tag(self.app)}", id="find-title")
            yield Label(t("find_person.label"))
            yield Input(placeholder=t("find_person.placeholder"), id="find-input")
            yield Static("", id="find-error")
            yield Label(t("find_person.keys"), id="find-keys")

    def on_mount(self) -> None:
        self.query_one("#find-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self.query_one("#find-error", Static)
        try:
            number = cpr.validate(event.value.strip())
        except cpr.CprError as exc:
            error.update(t(exc.code))
            return
        if self.app.store.load_person(number) is None:  # type: ignore[attr-defined]
            error.update(t("find_person.not_found", cpr=fmt_cpr(number)))
            return
        log.info("find person %s", cpr.mask(number))
        self.dismiss(number)

    def action_cancel(self) -> None:
        self.dismiss(None)
