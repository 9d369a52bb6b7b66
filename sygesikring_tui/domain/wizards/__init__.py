"""The wizards: pure definitions (steps, fields, validation, operation planning).

``WIZARDS`` maps the catalogue's ``wizard`` keys (data/workarounds.json) to definitions.
"""

from __future__ import annotations

from . import cards_family, doctors_family, events_family, forced_choice, military, renumbering
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
        military.CALLUP,
        military.DISCHARGE,
        military.STATE_POSTED_NOTE,
        forced_choice.WIZARD,
        *doctors_family.WIZARDS,
        *cards_family.WIZARDS,
        *events_family.WIZARDS,
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
