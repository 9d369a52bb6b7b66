"""The wizards: pure definitions (steps, fields, validation, operation planning).

``WIZARDS`` maps the catalogue's ``wizard`` keys (data/workarounds.json) to definitions.
"""

from __future__ import annotations

from . import (
    callup,
    card_after_group45,
    child_free_choice,
    child_home,
    cohabitant_doctor,
    discharge,
    dispensation,
    forced_choice,
    greenland,
    guardian_choice,
    host_move,
    immigration,
    marriage_name_card,
    practice_transfer,
    prison_switch,
    rediscovery,
    renumbering,
    state_posted_note,
)
from .base import (
    Draft,
    Field,
    FieldError,
    Msg,
    Option,
    Step,
    Wizard,
    WizardContext,
    dry_run,
    parse_date,
)

WIZARDS: dict[str, Wizard] = {
    w.key: w
    for w in (
        renumbering.WIZARD,
        callup.CALLUP,
        discharge.DISCHARGE,
        state_posted_note.STATE_POSTED_NOTE,
        forced_choice.WIZARD,
        immigration.IMMIGRATION,
        cohabitant_doctor.COHABITANT,
        host_move.HOST_MOVE,
        dispensation.DISPENSATION,
        guardian_choice.GUARDIAN,
        marriage_name_card.MARRIAGE_NAME_CARD,
        card_after_group45.CARD_AFTER_GROUP45,
        prison_switch.PRISON_SWITCH,
        greenland.GREENLAND,
        practice_transfer.PRACTICE_TRANSFER,
        child_free_choice.CHILD_FREE_CHOICE,
        rediscovery.REDISCOVERY,
        child_home.CHILD_HOME,
    )
}


def get_wizard(key: str) -> Wizard | None:
    return WIZARDS.get(key)


__all__ = [
    "WIZARDS",
    "Draft",
    "Field",
    "FieldError",
    "Msg",
    "Option",
    "Step",
    "Wizard",
    "WizardContext",
    "dry_run",
    "get_wizard",
    "parse_date",
]
