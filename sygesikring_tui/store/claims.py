"""Claiming a task: "Tag opgave", release and reassign, as operations like any other.

Each is a one-step case with one ``task_claim`` or ``task_release`` operation in the name of
the signed-in caseworker, committed with its outbox row in one transaction, so it syncs to
every desk of the municipality. The rules live in :mod:`sygesikring_tui.domain.operations`:
a task someone else holds is refused at once (whose, since when); two desks claiming the same
task offline meet at the server, where the second is a conflict, and :func:`lost_claims` says
who holds it now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from .db import Store

if TYPE_CHECKING:  # (imported when a claim is made: the inbox's first frame needs neither)
    from ..domain.model import Operation

CLAIM_CASE = "claim"


def _commit(store: Store, cpr: str, kind: str, payload: dict[str, Any], author: str, today: date) -> list[Operation]:
    from ..domain.operations import PlannedOp

    case = store.create_case(CLAIM_CASE, cpr, payload["task_id"], {})
    try:
        return store.commit_case(case.id, [PlannedOp(cpr, kind, payload)], today=today, author=author)
    except Exception:
        store.discard_case(case.id)
        raise


def claim(store: Store, cpr: str, task_id: str, initials: str, today: date) -> list[Operation]:
    """``initials`` takes the task. Raises ``RuleViolation`` (``rule.task_claimed`` with whose
    and since when) when someone else holds it; nothing is written then."""
    return _commit(store, cpr, "task_claim", {"task_id": task_id, "claimant": initials}, initials, today)


def reassign(store: Store, cpr: str, task_id: str, to: str, by: str, today: date) -> list[Operation]:
    """``by`` (the claimant, or a team lead) gives the task to ``to``."""
    return _commit(store, cpr, "task_claim", {"task_id": task_id, "claimant": to}, by, today)


def release(store: Store, cpr: str, task_id: str, by: str, today: date) -> list[Operation]:
    """``by`` (the claimant, or a team lead) gives the task back: nobody holds it."""
    return _commit(store, cpr, "task_release", {"task_id": task_id}, by, today)


@dataclass(frozen=True)
class LostClaim:
    """A claim of this desk the server refused: someone else held the task first."""

    op_id: str
    cpr: str
    task_id: str
    holder: str | None  # who holds it now (None: released meanwhile)
    since: str | None  # ISO timestamp of their claim


def lost_claims(store: Store) -> list[LostClaim]:
    """This desk's claims answered conflict or rejected and not settled yet, with who holds
    each task now (the server's state, installed with the answer)."""
    out = []
    for row in store.outbox():
        if row["kind"] != "task_claim" or row["status"] not in ("conflict", "rejected"):
            continue
        task_id = row["payload"]["task_id"]
        t = store.task(task_id)
        out.append(LostClaim(row["op_id"], row["cpr"], task_id, t.assignee if t else None,
                             t.claimed_at if t else None))
    return out
