"""A free-text note on the person (key ``n`` on the person screen): a ``note_add``
operation, committed and synced like any other, shown on the Notes tab and in the history."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sygesikring_tui.domain.cpr import mask
from sygesikring_tui.domain.operations import NOTE_MAX
from sygesikring_tui.i18n import t

from .dialogs import NoteDialog

if TYPE_CHECKING:
    from .app import SygesikringApp

log = logging.getLogger(__name__)


class PersonNoteDialog(NoteDialog):
    """The note the caseworker writes on the person; it cannot be empty."""

    HELP_KEY = "help.person_note"
    PLACEHOLDER_KEY = "note.placeholder"
    KEYS_KEY = "note.keys"
    REQUIRED_KEY = "note.required"
    MAX_LENGTH = NOTE_MAX


def note_flow(app: SygesikringApp, cpr: str, task_id: str | None = None) -> None:
    state = app.store.load_person(cpr)
    if state is None:
        app.notify(t("wizard.engine.unknown_person"), severity="error")
        return
    name = state.person.name

    def answered(text: str | None) -> None:
        if not text:
            return
        from sygesikring_tui.store.quick import add_note

        from .quick import committed, run_quick

        if run_quick(app, lambda author: add_note(app.store, cpr, text, app.today, author, task_id)):
            log.info("note written on %s", mask(cpr))
            committed(app, t("note.saved"))

    key = "note.text_training" if getattr(app, "is_training", False) else "note.text"
    app.push_screen(PersonNoteDialog(lambda: t("note.title"), lambda: t(key, name=name)), answered)
