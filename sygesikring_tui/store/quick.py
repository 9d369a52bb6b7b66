"""Operations made without a wizard: closing a task with a reason, writing a note, ticking a
follow-up off. Each is a one-step case committed like a wizard's (checked by the domain
rules, written with its outbox rows in one transaction), so it syncs and shows in the
history. A refused operation writes nothing, and its empty case is discarded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..domain import closing
from ..domain.model import Operation
from ..domain.operations import PlannedOp
from .db import Store

CLOSE_CASE = "task_close"
NOTE_CASE = "note"
FOLLOWUP_CASE = "followup"


def commit_quick(store: Store, kind: str, cpr: str, task_id: str | None, planned: Sequence[PlannedOp],
                 today: date, author: str = "") -> list[Operation]:
    """Commit ``planned`` as one case of ``kind``. Raises ``RuleViolation`` (nothing written)."""
    case = store.create_case(kind, cpr, task_id, {})
    try:
        return store.commit_case(case.id, planned, today=today, author=author)
    except Exception:
        store.discard_case(case.id)
        raise


def close_task(store: Store, cpr: str, task_id: str, reason_code: str, note: str, today: date,
               author: str = "") -> list[Operation]:
    """Close the task with a reason from :data:`closing.CLOSE_REASONS` and a note (required for
    "other"); the note is also kept as a note on the person."""
    note = note.strip()
    payload = {"task_id": task_id, "reason": closing.record_reason(reason_code, note), "reason_code": reason_code}
    if note:
        payload["note"] = note
    planned = [PlannedOp(cpr, "task_close", payload)]
    if note:
        planned.append(PlannedOp(cpr, "note_add", {"text": note}))
    return commit_quick(store, CLOSE_CASE, cpr, task_id, planned, today, author)


def add_note(store: Store, cpr: str, text: str, today: date, author: str = "",
             task_id: str | None = None) -> list[Operation]:
    return commit_quick(store, NOTE_CASE, cpr, task_id, [PlannedOp(cpr, "note_add", {"text": text.strip()})],
                        today, author)
