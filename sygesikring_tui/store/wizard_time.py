"""The caseworker's time in a wizard: one session per opening of a draft, to its close or commit.

The wizard screen calls :func:`begin` when it shows a draft and :func:`end` when it goes
away; :meth:`.db.Store.commit_case` ends the open session at the commit and sends the sum
over all sessions of the draft with the case, as its ``case_time`` operation (the
fault-cost report reads it on every desk and on the server). A session left open by a
crash is ended at the draft's last save when the draft is opened again.

Timing never stops a wizard: :func:`begin` and :func:`end` log a store error and go on.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .db import Store

log = logging.getLogger(__name__)

MAX_SECONDS = 100_000  # the operation's bound for a whole number; a draft longer than ~27 h is capped


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def begin(store: Store | None, case_id: str, now: str | None = None) -> None:
    """A session of ``case_id``'s draft starts (the wizard shows it)."""
    from .db import StoreError

    if store is None:
        return
    at = now or _now()
    try:
        with store.transaction() as conn:
            # a session a crash left open ends where the draft was last saved (never after now)
            conn.execute(
                "UPDATE wizard_sessions SET ended = MAX(started, MIN(?, (SELECT updated FROM cases WHERE id = ?))) "
                "WHERE case_id = ? AND ended IS NULL", (at, case_id, case_id))
            conn.execute("INSERT INTO wizard_sessions(case_id, started) SELECT id, ? FROM cases "
                         "WHERE id = ? AND status = 'draft'", (at, case_id))
    except (StoreError, sqlite3.Error):
        log.exception("wizard session start not recorded (case %s)", case_id)


def end(store: Store | None, case_id: str, now: str | None = None) -> None:
    """The open session of ``case_id`` ends (the wizard closed; after a commit nothing is open)."""
    from .db import StoreError

    if store is None:
        return
    try:
        with store.transaction() as conn:
            close_open(conn, case_id, now or _now())
    except (StoreError, sqlite3.Error):
        log.exception("wizard session end not recorded (case %s)", case_id)


def close_open(conn: sqlite3.Connection, case_id: str, at: str) -> None:
    """End the open session of ``case_id`` at ``at`` (inside the caller's transaction)."""
    conn.execute("UPDATE wizard_sessions SET ended = ? WHERE case_id = ? AND ended IS NULL", (at, case_id))


def seconds_between(start: str, stop: str) -> int:
    return max(0, round((datetime.fromisoformat(stop) - datetime.fromisoformat(start)).total_seconds()))


def total(sessions: Sequence[tuple[str, str | None]], until: str) -> tuple[int, int]:
    """(seconds, number of sessions): each session from its start to its end (or ``until``)."""
    secs = sum(seconds_between(s, e or until) for s, e in sessions)
    return min(secs, MAX_SECONDS), min(len(sessions), MAX_SECONDS)


def sessions(conn: sqlite3.Connection, case_id: str) -> list[tuple[str, str | None]]:
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT started, ended FROM wizard_sessions WHERE case_id = ? ORDER BY started", (case_id,))]


def case_time_payload(conn: sqlite3.Connection, case_id: str, workaround_id: str, at: str) -> dict[str, Any] | None:
    """The ``case_time`` payload of ``case_id`` committed at ``at`` (None: never timed, e.g.
    a follow-up ticked off in the person screen). Ends the open session at ``at``."""
    rows = sessions(conn, case_id)
    if not rows:
        return None
    close_open(conn, case_id, at)
    seconds, n = total(rows, at)
    return {"workaround_id": workaround_id, "seconds": seconds, "sessions": n, "at": at}
