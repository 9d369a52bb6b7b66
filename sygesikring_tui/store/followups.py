"""Follow-ups: ticking one off (e.g. the 2.6.5 "contact the provider" reminder), and the open
ones of every person (the inbox's "Opfølgninger" view).

A tick is an operation like any other: a one-step case with one ``followup_done``
operation, committed with its outbox row in one transaction, so it syncs.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date

from ..domain.model import Operation
from ..domain.operations import PlannedOp
from .db import Store
from .quick import FOLLOWUP_CASE, commit_quick

__all__ = ["FOLLOWUP_CASE", "OpenFollowUp", "open_followups", "tick_followup"]


def tick_followup(store: Store, cpr: str, followup_id: str, today: date, author: str = "",
                  done: date | None = None) -> list[Operation]:
    """Mark the follow-up done on ``done`` (default: today) by ``author``. Raises
    ``RuleViolation`` (unknown or already ticked): nothing is written then."""
    payload = {"followup_id": followup_id, "done": (done or today).isoformat()}
    if author:
        payload["author"] = author
    return commit_quick(store, FOLLOWUP_CASE, cpr, None, [PlannedOp(cpr, "followup_done", payload)],
                        today, author)


@dataclass(frozen=True)
class OpenFollowUp:
    cpr: str
    name: str
    followup_id: str
    text: str
    due: date | None
    created: str

    def is_due(self, today: date) -> bool:
        return self.due is not None and self.due <= today


# Reads only the persons that have follow-ups, through the partial index
# ``persons_with_followups`` (schema migration 5): its WHERE and this query's must stay the same
# expression (INDEXED BY makes SQLite refuse the query otherwise, instead of silently reading
# every person's document again: 1.3 s at 140k persons).
OPEN_FOLLOWUPS_SQL = (
    "SELECT p.cpr, p.name, f.value FROM persons p INDEXED BY persons_with_followups, "
    "json_each(p.doc, '$.followups') f "
    "WHERE instr(p.doc, '\"followups\":[{') > 0 AND json_extract(f.value, '$.done') IS NULL"
)


def open_followups(conn: sqlite3.Connection) -> list[OpenFollowUp]:
    """Every follow-up not yet ticked off, across persons: due date first (none last)."""
    rows = conn.execute(OPEN_FOLLOWUPS_SQL).fetchall()
    out = []
    for cpr, name, value in rows:
        f = json.loads(value)
        due = date.fromisoformat(f["due"]) if f.get("due") else None
        out.append(OpenFollowUp(cpr, name, f["id"], f["text"], due, f.get("created") or ""))
    return sorted(out, key=lambda f: (f.due or date.max, f.name, f.followup_id))


def tick_problems(done_text: str, caseworker: str, today: date) -> dict[str, str]:
    """What is wrong with a tick's date and caseworker as typed: field -> translation key
    (empty: fine). The date is DD-MM-YYYY or ISO, not after today."""
    from ..fmt import parse_date

    out: dict[str, str] = {}
    try:
        if parse_date(done_text) > today:
            out["date"] = "followup.error.future"
    except ValueError:
        out["date"] = "date.invalid"
    if not caseworker.strip():
        out["caseworker"] = "followup.error.caseworker"
    return out
