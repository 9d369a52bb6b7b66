"""Closing a task without a wizard, and what the guide says about a task that has none.

A task the guide gives no wizard for (e.g. event 013 "Udrejst" not to Greenland) is handled
directly in Sygesikring; the caseworker then closes it with one of a short list of reasons
and a note (required for "other"). The close is an ordinary ``task_close`` operation whose
``reason_code`` ``operations.check`` verifies with :func:`close_problems`.

Pure: no store, no Textual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from .model import PersonState, Provider, Task, TaskStatus
from .workarounds import SuggestionRule, suggest

# The reasons a task may be closed for without a wizard (their order is the dialog's).
CLOSE_REASONS = ("handled_directly", "not_relevant", "duplicate", "other")
NOTE_REQUIRED = frozenset({"other"})
# What the task's record says (the record is Danish, as the wizards' close reasons are).
RECORD_TEXT = {
    "handled_directly": "håndteret direkte i Sygesikring",
    "not_relevant": "ikke relevant",
    "duplicate": "dublet",
    "other": "anden årsag",
}


def close_problems(reason_code: str | None, note: str | None) -> list[str]:
    """The rule codes a close with this reason and note breaks (empty: allowed). A close
    without a reason code (a wizard's) is not looked at here."""
    if reason_code is None:
        return []
    if reason_code not in CLOSE_REASONS:
        return ["rule.close_reason_unknown"]
    if reason_code in NOTE_REQUIRED and not (note or "").strip():
        return ["rule.close_note_required"]
    return []


def record_reason(reason_code: str, note: str = "") -> str:
    """The ``reason`` text the task keeps: the reason in words, then the note."""
    text = RECORD_TEXT[reason_code]
    note = " ".join(note.split())
    return f"{text}: {note}" if note else text


def closable(task: Task) -> bool:
    """Every open task can be closed with a reason (whatever its wizard)."""
    return task.status == TaskStatus.OPEN


@dataclass(frozen=True)
class Guidance:
    """What the guide says for a task: ``kind`` is

    - ``wizard``: a wizard follows the guide (``workaround``, ``wizard``);
    - ``attention``: no workaround, only an attention point to heed (``attention``);
    - ``conditional``: the guide's workarounds for this event apply only in other
      circumstances (``workarounds``: their ids);
    - ``retired``: the event's workaround is retired by a release in production
      (``workarounds``);
    - ``outside``: the event is outside the guide.
    """

    kind: str
    workaround: str | None = None
    wizard: str | None = None
    attention: str | None = None
    workarounds: tuple[str, ...] = ()


def guidance(rules: list[SuggestionRule], task: Task, state: PersonState, today: date,
             provider: Callable[[str], Provider | None] = lambda _n: None,
             retired: Iterable[str] = frozenset()) -> Guidance:
    retired = frozenset(retired)
    sug = suggest(rules, task.event_code, state, today, provider, retired)
    if sug.wizard:
        return Guidance("wizard", sug.workaround_id, sug.wizard, sug.attention)
    own = [r for r in rules if r.event_code == task.event_code]
    if sug.attention:
        return Guidance("attention", attention=sug.attention)
    named = tuple(dict.fromkeys(r.workaround for r in own if r.workaround))
    if named and all(w in retired for w in named):
        return Guidance("retired", workarounds=named)
    if named:
        return Guidance("conditional", workarounds=tuple(w for w in named if w not in retired))
    return Guidance("outside")
