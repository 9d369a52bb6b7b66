"""Free or paid: the fee for a doctor change or a health card, and why (DOMAIN.md).

The rule (which reasons are free) lives here; the amount per year comes from
``data/fees.json`` and is passed in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from functools import cache

from . import cpr as cpr_mod
from . import rules
from .model import CardStatus, Fee, PersonState

# Doctor-change reasons: True = free.
DOCTOR_REASONS: Mapping[str, bool] = {
    "moving": True,  # flytning
    "practice_closes": True,  # praksis lukker eller deles
    "turning_15": True,
    "practice_transfer": True,  # praksisoverdragelse (guide 2.6.7)
    "renumbering": True,  # the old number's doctor moves to the new number (2.7.5)
    "first_choice": True,  # first choice after immigration / return
    "group_return": True,  # back to group 1 from group 2/4/5
    "group_switch": False,  # the fee for a switch between group 1 and 2 (DOMAIN.md)
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


def fee_payload(kind: str, code: str, when: date, fees: Mapping[int, int], text: str, waiver: str = "") -> dict:
    """The ``fee`` of a ``doctor_choice`` or ``card_order`` operation for reason ``code``: free
    by rule, or this year's amount, or free by the caseworker's written ``waiver``."""
    free_by = DOCTOR_REASONS if kind == "doctor_choice" else CARD_REASONS
    if code not in free_by:
        raise KeyError(code)
    if free_by[code]:
        return {"paid": False, "amount": 0, "reason": text, "code": code}
    if waiver.strip():
        return {"paid": False, "amount": 0, "reason": text, "code": code, "waiver": waiver.strip()}
    return {"paid": True, "amount": rules.card_fee(when.year, fees), "reason": text, "code": code}


def within_three_months(married_on: date, name_changed_on: date) -> bool:
    """2.7.7: the name change happened within 3 months of the wedding (either order)."""
    lo, hi = sorted((married_on, name_changed_on))
    months = (hi.year - lo.year) * 12 + hi.month - lo.month - (1 if hi.day < lo.day else 0)
    return months < 3


@cache
def fee_table() -> dict[int, int]:
    """The card / doctor-change fee per year, from ``data/fees.json``."""
    from ..paths import data_file

    raw = json.loads(data_file("fees.json").read_text(encoding="utf-8"))
    return {int(y): int(v) for y, v in raw["card_fee_kr"].items()}


# --- when a reason applies to the person on the date (check verifies it) -------------------
#
# Each predicate returns None when the reason applies to ``state`` on ``on``, else the
# translation key saying why not. Reasons that are charged (own choice, lost card, …) need
# no evidence. A free reason must be borne out by the register.

ReasonTest = Callable[[PersonState, date], "str | None"]
RECENT_DAYS = 366  # "moving", "practice transfer": the event lies within a year before


def _age(state: PersonState, on: date) -> int:
    try:
        return cpr_mod.age_on(state.cpr, on)
    except Exception:  # noqa: BLE001 - a number without a readable birth date
        b = state.person.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def _recent_event(state: PersonState, on: date, codes: frozenset[str], days: int = RECENT_DAYS) -> bool:
    return any(e.code in codes and on - timedelta(days=days) <= e.event_date <= on + timedelta(days=days)
               for e in state.events)


def _moved(state: PersonState, on: date) -> str | None:
    recent = any(on - timedelta(days=RECENT_DAYS) <= e.start <= on for e in state.addresses)
    if recent or _recent_event(state, on, frozenset({"034", "035", "036", "037", "014"})):
        return None
    return "rule.fee.no_move"


def _practice_closes(state: PersonState, on: date) -> str | None:
    return None if _recent_event(state, on, frozenset({"PLO2"})) else "rule.fee.no_practice_event"


def _practice_transfer(state: PersonState, on: date) -> str | None:
    return None if _recent_event(state, on, frozenset({"PLO1"})) else "rule.fee.no_practice_event"


def _turning_15(state: PersonState, on: date) -> str | None:
    return None if _age(state, on) == 15 else "rule.fee.not_15"


def _renumbered(state: PersonState, on: date) -> str | None:
    return None if any(c.new_cpr == state.cpr for c in state.cpr_changes) else "rule.renumbering_no_change"


def _first_choice(state: PersonState, on: date) -> str | None:
    """First choice after immigration, a return or a rediscovery, or the first choice at all."""
    if _recent_event(state, on, frozenset({"014", "011", "034"}), days=2 * RECENT_DAYS):
        return None
    if not any(d.provider_number and d.effective < on for d in state.doctors):
        return None
    return "rule.fee.not_first"


def returned_to_group1(state: PersonState, on: date) -> bool:
    """Group 1 current on ``on`` began when a group 2, 4 or 5 registration ended."""
    cur = state.current_group(on)
    return cur is not None and cur.group == 1 and any(
        g.end == cur.effective and g.group in (2, 4, 5) for g in state.groups)


def _group_return(state: PersonState, on: date) -> str | None:
    return None if returned_to_group1(state, on) else "rule.fee.no_group_return"


def _left_group_4_5(state: PersonState, on: date) -> str | None:
    """3.1.7: a group 4/5 registration ended on or before the date."""
    return None if any(g.group in (4, 5) and g.end is not None and g.end <= on for g in state.groups) \
        else "rule.fee.no_group_4_5"


def _first_card(state: PersonState, on: date) -> str | None:
    """The first card at all, or the first since the latest immigration (014): beside the one
    the system ordered with the automatic doctor choice, which 2.1.1 replaces (and cancels
    while it can)."""
    arrivals = [e.event_date for e in state.events if e.code == "014" and e.event_date <= on]
    since = max(arrivals) if arrivals else date.min
    had = sum(1 for c in state.cards if c.status != CardStatus.CANCELLED and since <= c.ordered_on <= on)
    return "rule.fee.not_first_card" if had > (1 if arrivals else 0) else None


def _married(state: PersonState, on: date) -> str | None:
    """2.7.7: the register shows a wedding and a name change within 3 months of each other
    (the person's dates, or CPR events 028 and 004)."""
    p = state.person
    weddings = [p.married_on] if p.married_on else []
    weddings += [e.event_date for e in state.events if e.code == "028"]
    changes = [p.name_changed_on] if p.name_changed_on else []
    changes += [e.event_date for e in state.events if e.code == "004"]
    if any(within_three_months(w, c) for w in weddings for c in changes):
        return None
    return "rule.fee.no_marriage"


def _old_card(state: PersonState, on: date) -> str | None:
    four_years = on.replace(year=on.year - 4) if not (on.month == 2 and on.day == 29) else date(on.year - 4, 2, 28)
    return None if any(c.ordered_on <= four_years for c in state.cards) else "rule.fee.card_not_old"


_ALWAYS: ReasonTest = lambda state, on: None  # noqa: E731 - a charged reason needs no evidence

DOCTOR_REASON_APPLIES: Mapping[str, ReasonTest] = {
    "moving": _moved, "practice_closes": _practice_closes, "turning_15": _turning_15,
    "practice_transfer": _practice_transfer, "renumbering": _renumbered, "first_choice": _first_choice,
    "group_return": _group_return, "group_switch": _ALWAYS, "guardian_on_behalf": _ALWAYS,
    "cohabitant": _ALWAYS, "own_choice": _ALWAYS,
}
CARD_REASON_APPLIES: Mapping[str, ReasonTest] = {
    "first_card": _first_card, "leaving_group_4_5": _left_group_4_5, "moving": _moved,
    "practice_closes": _practice_closes, "name_change_marriage": _married, "turning_15": _turning_15,
    "cpr_changed": _renumbered, "cracked_old_card": _old_card, "lost": _ALWAYS, "own_choice": _ALWAYS,
}


def fee_problems(kind: str, fee: Fee, code: str, waiver: str, state: PersonState, on: date,
                 table: Mapping[int, int]) -> list[tuple[str, dict]]:
    """Why the fee of a ``doctor_choice`` or ``card_order`` is wrong (empty: right).

    The reason ``code`` must be known for the kind and apply to the person on ``on``; a free
    reason means no charge; a charged reason means this year's amount from ``data/fees.json``,
    unless the caseworker waived it with a written reason (``waiver``).
    """
    free_by = DOCTOR_REASONS if kind == "doctor_choice" else CARD_REASONS
    applies = DOCTOR_REASON_APPLIES if kind == "doctor_choice" else CARD_REASON_APPLIES
    if code not in free_by:
        return [("rule.fee.reason_unknown", {"code": code})]
    why = applies[code](state, on)
    if why is not None:
        return [(why, {"code": code})]
    amount = rules.card_fee(on.year, table)
    if free_by[code]:
        if fee.paid or fee.amount:
            return [("rule.fee.should_be_free", {"code": code})]
        return []
    if fee.paid:
        return [] if fee.amount == amount else [("rule.fee.amount", {"amount": amount, "year": on.year})]
    if fee.amount or not waiver.strip():
        return [("rule.fee.free_needs_reason", {"code": code})]
    return []
