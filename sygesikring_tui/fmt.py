"""How the desk writes and reads dates, times, numbers and the person's history, in one place.

Dates are shown the Danish way, DD-MM-YYYY, in both UI languages; a typed date may be
DD-MM-YYYY (also with . or /) or ISO YYYY-MM-DD. Storage and the wire keep ISO: only what a
person reads goes through here. The history of a person is stored as raw entries
(``group_switch`` / ``5@2026-11-01``); :func:`history_text` says each in words of the UI
language ("Gruppeskift til 5 pr. 01-11-2026").

Core module: no Textual, no screens.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .domain.model import HistoryEntry, PersonState

DATE_FORMAT = "%d-%m-%Y"

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DMY = re.compile(r"^(\d{1,2})[-./](\d{1,2})[-./](\d{4})$")


_DANISH_MARKS = str.maketrans(",.", ".,")


def number_text(value: float, lang: str | None = None) -> str:
    """A number as the UI language writes it: thousands grouped, decimals only when it has
    some (at most two) — "100.000" and "2,5" in Danish, "100,000" and "2.5" in English."""
    from .i18n import language

    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.2f}".rstrip("0")
    else:
        text = f"{int(value):,}"
    return text.translate(_DANISH_MARKS) if (lang or language()) == "da" else text


def parse_date(text: str) -> date:
    """A typed date: ``DD-MM-YYYY`` (also with . or /) or ``YYYY-MM-DD``. ValueError otherwise."""
    s = (text or "").strip()
    if _ISO.match(s):
        return date.fromisoformat(s)
    m = _DMY.match(s)
    if m:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    raise ValueError(f"not a date: {text!r}")


def date_text(value: date | str | None) -> str:
    """A date as DD-MM-YYYY; "" for None or "". A string that is not a date is returned as is."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = parse_date(value)
        except ValueError:
            return value
    return value.strftime(DATE_FORMAT)


def field_date(value: str) -> str:
    """A date field's value as the caseworker should see it (DD-MM-YYYY); anything that is
    not a date (a half-typed value) is left exactly as typed."""
    try:
        return parse_date(value).strftime(DATE_FORMAT)
    except ValueError:
        return value


def is_iso_date(value: object) -> bool:
    return isinstance(value, str) and bool(_ISO.match(value))


def timestamp_text(value: str | None) -> str:
    """An ISO timestamp as "DD-MM-YYYY HH:MM" (its own wall-clock time); a bare date as
    DD-MM-YYYY; "" for None."""
    if not value:
        return ""
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return date_text(value[:10]) if _ISO.match(value[:10]) else value
    if len(value) <= 10:
        return ts.strftime(DATE_FORMAT)
    return ts.strftime(f"{DATE_FORMAT} %H:%M")


_FREE_TAIL = re.compile(r"\s*[-–]\s*gratis(?=\s*(\(\d[\d.]*\))?\s*$)", re.I)


def free_reason(reason: str) -> str:
    """A free fee's reason without its trailing "– gratis", for texts that say "gratis"
    themselves ("gratis (flytning)", not "gratis (flytning – gratis)")."""
    return _FREE_TAIL.sub("", reason or "")


# -- the history in words ---------------------------------------------------------------------

def _split_at(detail: str) -> tuple[str, str]:
    left, _, right = detail.partition("@")
    return left, date_text(right)


def _practice(state: PersonState | None, provider_number: str) -> str:
    if state is not None:
        for d in reversed(state.doctors):
            if d.provider_number == provider_number and d.practice_name:
                return f"{d.practice_name} ({provider_number})"
    return provider_number


def history_text(entry: HistoryEntry, state: PersonState | None = None,
                 event_name: object = None) -> str:
    """One history entry in words. ``state`` (the person now) names practices and tasks;
    ``event_name(code)`` names a CPR event. An action without words of its own says
    "Ændring registreret" rather than its code."""
    from .i18n import t

    action, detail = entry.action, entry.detail or ""
    if action == "group_switch":
        group, on = _split_at(detail)
        return t("history.group_switch", group=group, date=on)
    if action == "doctor_choice":
        number, on = _split_at(detail)
        return t("history.doctor_choice", practice=_practice(state, number), date=on)
    if action == "doctor_choice_end":
        choice = next((d for d in state.doctors if d.id == detail), None) if state else None
        if choice is not None and choice.practice_name:
            return t("history.doctor_choice_end_named", practice=f"{choice.practice_name} ({choice.provider_number})")
        return t("history.doctor_choice_end")
    if action == "task_close":
        task = state.task(detail) if state is not None else None
        if task is None:
            return t("history.task_close")
        name = event_name(task.event_code) if callable(event_name) else ""
        what = f"{task.event_code} {name}".strip()
        if task.closed_reason:
            return t("history.task_close_reason", event=what, reason=task.closed_reason)
        return t("history.task_close_event", event=what)
    if action == "cpr_event":
        name = event_name(detail) if callable(event_name) else ""
        return t("history.cpr_event", event=f"{detail} {name}".strip())
    if action == "case_time":
        from .domain.operations import parse_case_time

        parsed = parse_case_time(detail)
        if parsed is not None:
            return t("history.case_time", section=parsed[0], minutes=round(parsed[1] / 60), n=parsed[2])
    if action in ("remove_future", "card_order", "card_cancel", "note_add", "followup_add", "followup_done"):
        return t(f"history.{action}")
    if detail and detail != action and "_" not in detail:
        return detail  # a text written in words already (e.g. an imported entry)
    return t("history.other")
