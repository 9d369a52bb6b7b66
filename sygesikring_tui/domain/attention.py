"""The guide's attention points (section 4) as checks, not passive text.

1. A future switch to group 2, 4, 5, 7, 8 or 9 blocks a new doctor choice — enforced in
   :func:`operations.check` (``rule.future_switch_blocks``); :func:`future_switch_block`
   lets a wizard say so before the caseworker gets that far.
2. Letters: Sygesikring cannot show whether a letter was delivered. Every operation that
   sends the citizen a letter carries a reminder pointing to Digital Post's administrative
   access (:func:`letter_reminders`).
3. Parents may choose a minor child's closed doctor in self-service, but only spouses and
   cohabitants in a marriage-like relationship may choose a person's closed doctor: a
   closed-doctor choice for a minor that is a parent's doctor is flagged
   (:func:`parent_closed_doctor_flag`).
4. CPR events 040/041 follow note lines 3 and 4 in CPR, which are sometimes filled by
   mistake and deleted again: before a switch to group 4, the person's 040/041 history is
   shown for the caseworker to confirm (:func:`group4_history`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from . import rules
from .cpr import age_on
from .model import CprEvent, GroupRegistration, PersonState, Provider
from .operations import PlannedOp

# Operations after which Sygesikring sends the citizen a letter.
LETTER_KINDS = frozenset({"group_switch", "doctor_choice", "card_order", "card_cancel"})


@dataclass(frozen=True)
class Flag:
    """A warning to show (never a silent pass): ``code`` is a translation key."""

    code: str
    params: Mapping[str, object]


def future_switch_block(state: PersonState, today: date) -> Flag | None:
    g: GroupRegistration | None = rules.blocking_future_switch(state, today)
    if g is None:
        return None
    return Flag("attention.ap1", {"group": g.group, "date": g.effective.isoformat()})


def letter_reminders(planned: Sequence[PlannedOp]) -> list[Flag]:
    """One AP2 reminder for each planned operation that sends a letter."""
    return [Flag("attention.ap2", {"kind": p.kind, "index": i + 1})
            for i, p in enumerate(planned) if p.kind in LETTER_KINDS]


def parent_closed_doctor_flag(child: PersonState, provider: Provider | None, today: date,
                              parents: Iterable[PersonState]) -> Flag | None:
    """AP3: a closed doctor chosen for a minor because a parent is registered there."""
    if provider is None or provider.open or age_on(child.cpr, today) >= 18:
        return None
    parents_of_child = set(rules.parent_cprs(child))
    for parent in parents:
        if parent.cpr not in parents_of_child:
            continue
        cur = parent.current_doctor(today)
        if cur is not None and cur.provider_number == provider.provider_number:
            return Flag("attention.ap3", {"practice": provider.practice_name, "parent": parent.person.name})
    return None


def group4_history(state: PersonState) -> list[CprEvent]:
    """AP4: the person's CPR 040/041 events, newest first, to confirm before group 4."""
    return sorted((e for e in state.events if e.code in ("040", "041")), key=lambda e: e.event_date, reverse=True)


def group4_needs_confirmation(planned: Sequence[PlannedOp]) -> bool:
    return any(p.kind == "group_switch" and p.payload.get("group") == 4 for p in planned)
