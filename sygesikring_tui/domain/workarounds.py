"""Suggesting a workaround for a task: data rules (``data/workarounds.json``) evaluated
against the person's state. The vocabulary of conditions lives here, once; which event
leads to which workaround is data, not code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .cpr import age_on
from .model import PersonState, Provider

GREENLAND_MIN_CODE = 900  # CPR's municipality codes for Greenland are 9xx
# The usual wordings of "posted abroad by the state" in a caseworker's note (2.5.1); a
# wording preceded by "ikke"/"not" does not count. Only a suggestion: the note stays on
# screen and the caseworker decides.
STATE_POSTED = re.compile(
    r"stats[\s-]?udsend|stats[\s-]?ansat\s+udsendt"
    r"|(?:udsendt|udstationeret|udsendelse)\s+(?:af|for|fra)\s+(?:den\s+danske\s+)?stat(?:en)?\b"
    r"|(?:udsendt|udstationeret)\s+(?:af|for|fra)\s+(?:udenrigsministeriet|ambassaden|danmarks\s+ambassade)"
    r"|(?:udsendt|udstationeret)\s+(?:på|ved)\s+(?:en\s+|den\s+)?(?:danske?\s+)?ambassade"
    r"|state[\s-]posted|posted\s+(?:abroad\s+)?by\s+the\s+(?:danish\s+)?state",
    re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:ikke|not|no)\s+(?:\w+\s+)?$", re.IGNORECASE)


def is_greenland(municipality_code: int) -> bool:
    return municipality_code >= GREENLAND_MIN_CODE


def says_state_posted(text: str) -> bool:
    """The text says the person is posted abroad by the state (not that they are not)."""
    return any(not _NEGATION.search(text[max(0, m.start() - 20):m.start()]) for m in STATE_POSTED.finditer(text))


def has_state_posted_note(state: PersonState) -> bool:
    return any(says_state_posted(n.text) for n in state.notes)


def _from_greenland(state: PersonState) -> bool:
    hist = sorted(state.addresses, key=lambda a: a.start)
    regular = [a for a in hist if not a.supplementary]
    return (
        len(regular) >= 2
        and is_greenland(regular[-2].address.municipality_code)
        and not is_greenland(state.person.address.municipality_code)
    )


def _to_greenland(state: PersonState) -> bool:
    return state.person.cpr_status in ("05", "07") or any(
        e.code == "013" and str(e.data.get("country", "")).upper() == "GL" for e in state.events
    )


def _moved_to_residence_parent(state: PersonState) -> bool:
    """2.7.8: the person's current address began the day a residence-parent relation did
    (CPR registers the child with the parent it moved in with)."""
    here = [a.start for a in state.addresses
            if not a.supplementary and a.address.same_place(state.person.address)]
    if not here:
        return False
    since = max(here)
    return any(r.kind == "residence_parent" and r.since == since for r in state.relations)


def _current_doctor_closed(state: PersonState, today: date, provider: Callable[[str], Provider | None]) -> bool:
    cur = state.current_doctor(today)
    p = provider(cur.provider_number) if cur else None
    return p is not None and not p.open


def condition_value(name: str, state: PersonState, today: date,
                    provider: Callable[[str], Provider | None]) -> Any:
    """The value of one named condition for ``state`` (KeyError for an unknown name)."""
    if name == "current_group":
        g = state.current_group(today)
        return g.group if g else None
    if name == "luna_known":
        return state.person.luna_known
    if name == "has_cpr_change_to_self":
        return any(c.new_cpr == state.cpr for c in state.cpr_changes)
    if name == "has_supplementary_address":
        return bool(state.person.supplementary_address)
    if name == "has_note_state_posted":
        return has_state_posted_note(state)
    if name == "current_doctor_closed":
        return _current_doctor_closed(state, today, provider)
    if name == "has_guardian":
        return any(r.kind == "guardian" for r in state.relations)
    if name == "from_greenland":
        return _from_greenland(state)
    if name == "to_greenland":
        return _to_greenland(state)
    if name == "moved_to_residence_parent":
        return _moved_to_residence_parent(state)
    if name == "age":
        return age_on(state.cpr, today)
    raise KeyError(name)


CONDITIONS = ("current_group", "luna_known", "has_cpr_change_to_self", "has_supplementary_address",
              "has_note_state_posted", "current_doctor_closed", "age_under", "has_guardian",
              "from_greenland", "to_greenland", "moved_to_residence_parent")


def matches(when: Mapping[str, Any], state: PersonState, today: date,
            provider: Callable[[str], Provider | None]) -> bool:
    for name, wanted in when.items():
        if name == "age_under":
            if not age_on(state.cpr, today) < int(wanted):
                return False
        elif condition_value(name, state, today, provider) != wanted:
            return False
    return True


@dataclass(frozen=True)
class SuggestionRule:
    event_code: str  # "*" matches any event
    when: Mapping[str, Any]
    workaround: str | None
    wizard: str | None = None
    attention: str | None = None


@dataclass(frozen=True)
class Suggestion:
    workaround_id: str | None
    wizard: str | None
    attention: str | None = None


NO_SUGGESTION = Suggestion(None, None, None)


def suggest(rules: list[SuggestionRule], event_code: str, state: PersonState, today: date,
            provider: Callable[[str], Provider | None],
            retired: frozenset[str] = frozenset()) -> Suggestion:
    """The first rule for this event whose conditions hold; retired workarounds are skipped."""
    for r in rules:
        if r.event_code not in (event_code, "*"):
            continue
        if r.workaround in retired:
            continue
        if matches(r.when, state, today, provider):
            return Suggestion(r.workaround, r.wizard, r.attention)
    return NO_SUGGESTION
