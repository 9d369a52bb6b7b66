"""Inbox queries over the tasks table, built for a virtual list of 100k+ rows.

The UI asks for the ordered row ids matching a filter (one cheap indexed query, ids only),
then fetches the few rows that are visible. First paint needs only ``count`` and ``page``.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any

from .db import Store

SORTS = {
    "due": "due {d}, rid {d}",
    "received": "received {d}, rid {d}",
    "cpr": "cpr {d}, rid {d}",
    "name": "name {d}, rid {d}",
    "event": "event_code {d}, due, rid",
    "status": "status {d}, due, rid",
    "workaround": "workaround_id {d}, due, rid",
}

COLUMNS = ("rid", "id", "due", "event_code", "cpr", "name", "status", "workaround_id", "received", "assignee")


@dataclass(frozen=True)
class InboxQuery:
    status: str | None = "open"  # None: all
    event_code: str | None = None
    workaround_id: str | None = None  # "none" matches tasks with no suggestion
    search: str = ""  # CPR digits or part of a name, as typed
    sort: str = "due"
    descending: bool = False

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.status:
            clauses.append("status = ?")
            args.append(self.status)
        if self.event_code:
            clauses.append("event_code = ?")
            args.append(self.event_code)
        if self.workaround_id == "none":
            clauses.append("workaround_id IS NULL")
        elif self.workaround_id:
            clauses.append("workaround_id = ?")
            args.append(self.workaround_id)
        term = self.search.strip().lower().replace("-", "")
        if term:
            if term.isdigit():
                clauses.append("cpr LIKE ?")  # CPR search is a prefix search (uses digits only)
                args.append(term + "%")
            else:
                clauses.append("instr(search, ?) > 0")
                args.append(term)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    def order(self) -> str:
        return " ORDER BY " + SORTS.get(self.sort, SORTS["due"]).format(d="DESC" if self.descending else "ASC")


def count(store: Store, q: InboxQuery) -> int:
    where, args = q.where()
    return int(store.conn.execute(f"SELECT count(*) FROM tasks{where}", args).fetchone()[0])


def ids(store: Store, q: InboxQuery) -> array:
    """All matching row ids in display order (8 bytes a row)."""
    where, args = q.where()
    out = array("q")
    cur = store.conn.execute(f"SELECT rid FROM tasks{where}{q.order()}", args)
    while True:
        chunk = cur.fetchmany(65536)
        if not chunk:
            break
        out.extend(r[0] for r in chunk)
    return out


def page(store: Store, q: InboxQuery, offset: int, limit: int) -> list[dict[str, Any]]:
    """Rows ``offset``..``offset+limit`` in display order (for first paint)."""
    where, args = q.where()
    sql = f"SELECT {', '.join(COLUMNS)} FROM tasks{where}{q.order()} LIMIT ? OFFSET ?"
    return [dict(zip(COLUMNS, r)) for r in store.conn.execute(sql, [*args, limit, offset])]


def rows(store: Store, rids: list[int]) -> dict[int, dict[str, Any]]:
    """The rows for the given ids (any order), keyed by id."""
    if not rids:
        return {}
    marks = ",".join("?" * len(rids))
    sql = f"SELECT {', '.join(COLUMNS)} FROM tasks WHERE rid IN ({marks})"
    return {r[0]: dict(zip(COLUMNS, r)) for r in store.conn.execute(sql, rids)}


def event_codes(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT DISTINCT event_code FROM tasks ORDER BY event_code")]
