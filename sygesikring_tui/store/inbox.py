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

# Danish letters a caseworker may type as their ASCII spelling (or the reverse): "sorensen"
# and "soerensen" find "Sørensen", "aage" finds "Åge", "laesoe" finds "Læsø". Applied to the
# lowered name and to the typed term alike; SQL_FOLD is the same replacements in SQLite.
_FOLDS = (("oe", "o"), ("ø", "o"), ("æ", "ae"), ("å", "aa"))


def fold(text: str) -> str:
    """``text`` (lower case) with ø/oe as o, æ as ae and å as aa."""
    for a, b in _FOLDS:
        text = text.replace(a, b)
    return text


def _sql_fold(expr: str) -> str:
    for a, b in _FOLDS:
        expr = f"replace({expr}, '{a}', '{b}')"
    return expr


# The search column is "<10-digit cpr> <name lowered by Python>" (SQLite's lower() leaves Æ, Ø
# and Å): the name starts at character 12.
_NAME = "substr(search, 12)"
_NAME_MATCH = f"(instr({_NAME}, ?) > 0 OR instr({_sql_fold(_NAME)}, ?) > 0)"


@dataclass(frozen=True)
class Search:
    """A typed search: ``cpr`` (digits, with or without the hyphen: a prefix of the CPR
    number), ``name`` (part of the name, raw or Danish-folded), or nothing."""

    kind: str  # "" | "cpr" | "name"
    term: str  # cpr: the digits; name: the lowered text
    folded: str = ""

    @property
    def normalised(self) -> str:
        return self.term

    def narrows_to(self, new: Search) -> bool:
        """True if every task ``new`` matches is matched by this search too."""
        return (bool(self.term) and self.kind == new.kind and new.term.startswith(self.term)
                and new.folded.startswith(self.folded))


def parse_search(text: str) -> Search:
    s = text.strip().lower()
    digits = s.replace("-", "").replace(" ", "")
    if not digits:
        return Search("", "")
    if digits.isdigit():
        return Search("cpr", digits)
    return Search("name", s, fold(s))


COLUMNS = ("rid", "id", "due", "event_code", "cpr", "name", "status", "workaround_id", "received", "assignee")


@dataclass(frozen=True)
class InboxQuery:
    status: str | None = "open"  # None: all
    event_code: str | None = None
    workaround_id: str | None = None  # "none" matches tasks with no suggestion
    assignee: str | None = None  # who claimed it (initials; "Mine"); "none": nobody ("Ikke taget")
    search: str = ""  # CPR digits or part of a name, as typed
    sort: str = "due"
    descending: bool = False

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        s = parse_search(self.search)
        # With a CPR prefix, "+column" keeps SQLite off the status/event/workaround indexes
        # (it would walk every open task): the few matching tasks come from tasks_cpr.
        plus = "+" if s.kind == "cpr" else ""
        if self.status:
            clauses.append(f"{plus}status = ?")
            args.append(self.status)
        if self.event_code:
            clauses.append(f"{plus}event_code = ?")
            args.append(self.event_code)
        if self.workaround_id == "none":
            clauses.append(f"{plus}workaround_id IS NULL")
        elif self.workaround_id:
            clauses.append(f"{plus}workaround_id = ?")
            args.append(self.workaround_id)
        if self.assignee == "none":
            clauses.append(f"{plus}assignee IS NULL")
        elif self.assignee:
            clauses.append(f"{plus}assignee = ?")
            args.append(self.assignee)
        if s.kind == "cpr":
            # A prefix of the CPR number as a range, so SQLite uses tasks_cpr (LIKE cannot):
            # "0101" -> "0101" <= cpr < "010:" (':' follows '9').
            clauses.append("cpr >= ? AND cpr < ?")
            args += [s.term, s.term[:-1] + chr(ord(s.term[-1]) + 1)]
        elif s.kind == "name":
            clauses.append(_NAME_MATCH)
            args += [s.term, s.folded]
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
