"""Ticking off a follow-up (e.g. the 2.6.5 "contact the provider" reminder).

A tick is an operation like any other: a one-step case with one ``followup_done``
operation, committed with its outbox row in one transaction, so it syncs.
"""

from __future__ import annotations

from datetime import date, datetime

from ..domain.model import Operation
from ..domain.operations import PlannedOp
from .db import Store

FOLLOWUP_CASE = "followup"


def tick_followup(store: Store, cpr: str, followup_id: str, today: date, author: str = "") -> list[Operation]:
    """Mark the follow-up done. Raises ``RuleViolation`` (unknown or already ticked): nothing is
    written then, and the empty draft case is discarded."""
    case = store.create_case(FOLLOWUP_CASE, cpr, None, {"followup_id": followup_id})
    done = datetime.now().astimezone().isoformat(timespec="seconds")
    try:
        return store.commit_case(case.id, [PlannedOp(cpr, "followup_done", {"followup_id": followup_id,
                                                                            "done": done})],
                                 today=today, author=author)
    except Exception:
        store.discard_case(case.id)
        raise
