"""Free or paid: the fee for a doctor change or a health card, and why (DOMAIN.md).

The rule (which reasons are free) lives here; the amount per year comes from
``data/fees.json`` and is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from . import rules
from .model import Fee

# Doctor-change reasons: True = free.
DOCTOR_REASONS: Mapping[str, bool] = {
    "moving": True,  # flytning
    "practice_closes": True,  # praksis lukker eller deles
    "turning_15": True,
    "practice_transfer": True,  # praksisoverdragelse (guide 2.6.7)
    "renumbering": True,  # the old number's doctor moves to the new number (2.7.5)
    "first_choice": True,  # first choice after immigration / return
    "group_return": True,  # back to group 1 from group 2/4/5
    "guardian_on_behalf": False,  # a normal change, made for a ward: fee as for own choice
    "cohabitant": False,  # choosing a cohabitant's doctor is a change by own choice
    "own_choice": False,  # selvvalgt
}

# Health-card reasons: True = free.
CARD_REASONS: Mapping[str, bool] = {
    "first_card": True,
    "leaving_group_4_5": True,  # 3.1.7
    "moving": True,
    "practice_closes": True,
    "name_change_marriage": True,  # within 3 months of the wedding (2.7.7)
    "turning_15": True,
    "cpr_changed": True,
    "cracked_old_card": True,  # cracked and older than 4 years
    "lost": False,
    "own_choice": False,
}


def _fee(free: bool, reason: str, when: date, fees: Mapping[int, int]) -> Fee:
    return Fee(False, 0, reason) if free else Fee(True, rules.card_fee(when.year, fees), reason)


def doctor_fee(reason: str, when: date, fees: Mapping[int, int], waiver: str = "") -> Fee:
    """The fee for a doctor change for ``reason``; a written ``waiver`` makes a paid one free."""
    if reason not in DOCTOR_REASONS:
        raise KeyError(reason)
    if waiver.strip() and not DOCTOR_REASONS[reason]:
        return Fee(False, 0, f"{reason}; fritaget: {waiver.strip()}")
    return _fee(DOCTOR_REASONS[reason], reason, when, fees)


def card_fee(reason: str, when: date, fees: Mapping[int, int]) -> Fee:
    if reason not in CARD_REASONS:
        raise KeyError(reason)
    return _fee(CARD_REASONS[reason], reason, when, fees)


def within_three_months(married_on: date, name_changed_on: date) -> bool:
    """2.7.7: the name change happened within 3 months of the wedding (either order)."""
    lo, hi = sorted((married_on, name_changed_on))
    months = (hi.year - lo.year) * 12 + hi.month - lo.month - (1 if hi.day < lo.day else 0)
    return months < 3
