"""An in-memory index of the inbox's filter and sort keys, so a keystroke in the search field
never waits for SQLite.

Why: at 100k tasks, a search is a full scan in SQLite (``instr`` on every row: ~0.3 s), and
sorting by name or event sorts 100k rows per keystroke. Here every sort order is computed once
(in a worker thread, after the first paint) and a keystroke filters an already ordered array
(and typing one more letter only narrows the previous result).

The index is a cache of ``tasks`` that answers exactly what :mod:`.inbox` answers for the same
:class:`InboxQuery` (same order, same matches; ``tests/test_inbox_search.py`` runs one set of
queries against both). It holds positions (row numbers in rid order), never rows: the UI reads
the few visible rows from SQLite by rid (:func:`.inbox.rows`).

Memory: the keys are columnar and compact (see ``bench/README.md`` for the per-column cost):
- ``rid`` and ``cpr`` as 8-byte integers (a CPR number is 10 digits, so integer order is the
  text order and a typed prefix is an integer range);
- ``due``, ``received``, ``status``, ``event_code``, ``workaround_id`` and ``name`` as 4-byte
  codes into a sorted table of their distinct values (code order = value order, NULL first as
  in SQLite), so sorting compares small integers and a name search tests each distinct name
  once, not each task;
- ``assignee`` (who claimed the task; NULL: nobody) as a 4-byte code too (the Mine / Ikke
  taget filter);
- ``id`` is not held at all (a cold column, read through by rid).
Stores larger than :data:`MAX_ROWS` are not indexed: the inbox then stays on SQLite.
"""

from __future__ import annotations

import sqlite3
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from .inbox import InboxQuery, Search, fold, parse_search

MAX_ROWS = 300_000  # ~5 MB of keys + ~10 MB of sort orders at 100k rows
RECENT = 16  # results kept for recent queries (typing back with backspace)
CHUNK = 4096  # rows read from SQLite at a time while loading (no full fetchall in memory)

# Sorts whose DESC reverses every key (see inbox.SORTS), and those that reverse only the first
# key and keep (due, rid) ascending inside a group.
_FULL_REVERSE = ("due", "received", "cpr", "name")
DEFAULT_VIEW = ("due", False, "open")  # (sort, descending, status) of the inbox as it opens
_GROUP_SORT = ("event", "status", "workaround")
_COLUMN = {"event": "event_code", "workaround": "workaround_id"}


class _Coder:
    """Assigns each distinct value a provisional code while loading; :meth:`ranked` then
    renumbers the codes so that code order is value order (NULL first, as SQLite sorts)."""

    def __init__(self) -> None:
        self.codes: dict[Any, int] = {}
        self.values: list[Any] = []

    def code(self, v: Any) -> int:
        c = self.codes.get(v)
        if c is None:
            c = self.codes[v] = len(self.values)
            self.values.append(v)
        return c

    def ranked(self, provisional: array) -> tuple[array, list[Any]]:
        order = sorted(range(len(self.values)), key=lambda c: (self.values[c] is not None, self.values[c] or ""))
        rank = [0] * len(order)
        for r, c in enumerate(order):
            rank[c] = r
        return array("i", map(rank.__getitem__, provisional)), [self.values[c] for c in order]


def _positions(xs: Iterable[int]) -> array:
    return array("i", xs)


def _by_code(col: array, ncodes: int, positions: Iterable[int], descending: bool = False) -> array:
    """``positions`` stably sorted by their code in ``col`` (a counting sort: no list of
    100k integer objects, as ``sorted`` would build, and linear time)."""
    counts = [0] * ncodes
    for c in col:
        counts[c] += 1
    starts = [0] * ncodes
    total = 0
    for c in (range(ncodes - 1, -1, -1) if descending else range(ncodes)):
        starts[c] = total
        total += counts[c]
    out = array("i", bytes(4 * total))
    for i in positions:
        c = col[i]
        out[starts[c]] = i
        starts[c] += 1
    return out


class InboxIndex:
    """Every task's keys, column-wise, plus each sort order as an array of positions."""

    def __init__(self) -> None:
        self.changes = 0
        self.rid = array("q")
        self.cpr = array("q")
        # coded columns: codes per row + the sorted table of distinct values
        self.due = array("i")
        self.received = array("i")
        self.status = array("i")
        self.event_code = array("i")
        self.workaround_id = array("i")
        self.assignee = array("i")
        self.name = array("i")
        self.values: dict[str, list[Any]] = {}
        self._code_of: dict[str, dict[Any, int]] = {}
        self._low: list[str] = []  # per name code: the name as the search column holds it
        self._folded: list[str] = []  # per name code: fold() of it
        self._orders: dict[tuple[str, bool], array] = {}
        self._by_status: dict[tuple[str, bool, str], array] = {}
        self._cpr_sorted: array | None = None
        self._first_letter: dict[str, array] | None = None  # default view, one letter typed
        self._first_digit: dict[str, array] | None = None  # default view, one digit typed
        self._default_groups: dict[str, dict[Any, array]] = {}  # default view, by event / workaround
        self._recent: OrderedDict[InboxQuery, array] = OrderedDict()  # backspace = cache hit
        self._names_hit: OrderedDict[str, frozenset[int]] = OrderedDict()  # name term -> name codes
        self._name_count = array("i")  # per name code: its tasks
        self._letter_names: dict[str, array] = {}  # character -> the name codes it finds
        self._pair_names: dict[str, array] = {}  # two characters -> the names holding them (raw or folded)
        self._rank: array | None = None  # per position: its place in the default view, -1: not in it
        # Default view, per name code: its tasks' places in the view (ascending), grouped by name
        self._open_ranks_by_name = array("i")
        self._open_name_count = array("i")  # per name code: its tasks in the default view
        self._open_name_starts = array("i")  # per name code: where its group starts

    def __len__(self) -> int:
        return len(self.rid)

    # -- loading ------------------------------------------------------------------------
    @classmethod
    def from_rows(cls, rows: Iterable[tuple[Any, ...]], changes: int = 0) -> InboxIndex | None:
        """rows in rid order: (rid, cpr, due, received, status, event_code, workaround_id,
        name, search, assignee). None if a row cannot be indexed (a CPR that is not 10 digits)."""
        self = cls()
        self.changes = changes
        coders = {k: _Coder() for k in ("due", "received", "status", "event_code", "workaround_id", "name",
                                        "assignee")}
        cols = {k: array("i") for k in coders}
        low_of: dict[int, str] = {}
        c_due, c_rec, c_st, c_ev, c_wa, c_nm, c_as = (coders[k].code for k in coders)
        a_due, a_rec, a_st, a_ev, a_wa, a_nm, a_as = (cols[k].append for k in coders)
        rid_append, cpr_append = self.rid.append, self.cpr.append
        for rid, cpr, due, received, status, event, wa, name, search, who in rows:
            if len(cpr) != 10 or not cpr.isdigit():
                return None
            rid_append(rid)
            cpr_append(int(cpr))
            a_due(c_due(due))
            a_rec(c_rec(received))
            a_st(c_st(status))
            a_ev(c_ev(event))
            a_wa(c_wa(wa))
            a_as(c_as(who))
            code = c_nm(name)
            a_nm(code)
            if code not in low_of:
                low_of[code] = search[11:]  # "<cpr> <name lowered by Python>"
        for k, coder in coders.items():
            codes, values = coder.ranked(cols[k])
            setattr(self, k, codes)
            self.values[k] = values
        by_name = {v: c for c, v in enumerate(coders["name"].values)}
        self._low = [low_of[by_name[v]] for v in self.values["name"]]
        self._folded = [fold(s) for s in self._low]
        counts = array("i", bytes(4 * len(self._low)))
        for c in self.name:
            counts[c] += 1
        self._name_count = counts
        return self

    @classmethod
    def load(cls, path: Path | str, changes: int = 0) -> InboxIndex | None:
        """Read the index on a connection of its own (call from a worker thread); None if the
        store is too large to index."""
        conn = sqlite3.connect(path, timeout=3.0)
        try:
            n = conn.execute("SELECT max(rid) FROM tasks").fetchone()[0] or 0  # no COUNT: rid is the rowid
            if n > MAX_ROWS and conn.execute("SELECT count(*) FROM tasks").fetchone()[0] > MAX_ROWS:
                return None
            cur = conn.execute("SELECT rid, cpr, due, received, status, event_code, workaround_id, name, search, "
                               "assignee FROM tasks ORDER BY rid")

            def rows() -> Iterable[tuple[Any, ...]]:
                while chunk := cur.fetchmany(CHUNK):
                    yield from chunk

            index = cls.from_rows(rows(), changes)
        finally:
            conn.close()
        if index is not None:
            index.by_status(*DEFAULT_VIEW)  # the default order, ready before the first keystroke
        return index

    def warm(self) -> None:
        """Compute every sort order (worker thread), so no keystroke ever sorts; and, for the
        default view (open tasks by due date), the result of every one-letter and one-digit
        search: the first character typed is the one keystroke that must test every row."""
        base = self.by_status(*DEFAULT_VIEW)
        letters_of = [self._letters(low, f) for low, f in zip(self._low, self._folded)]
        letter_names: dict[str, array] = {}
        for code, letters in enumerate(letters_of):
            for c in letters:
                got = letter_names.get(c)
                if got is None:
                    got = letter_names[c] = array("i")
                got.append(code)
        self._letter_names = letter_names
        pair_names: dict[str, array] = {}
        for code, (low, f) in enumerate(zip(self._low, self._folded)):
            for pair in {low[k:k + 2] for k in range(len(low) - 1)} | {f[k:k + 2] for k in range(len(f) - 1)}:
                got = pair_names.get(pair)
                if got is None:
                    got = pair_names[pair] = array("i")
                got.append(code)
        self._pair_names = pair_names
        lists: dict[str, array] = {}
        names = self.name
        for i in base:
            for c in letters_of[names[i]]:
                got = lists.get(c)
                if got is None:
                    got = lists[c] = array("i")
                got.append(i)
        self._first_letter = lists
        cpr = self.cpr
        digits: dict[str, array] = {str(d): array("i") for d in range(10)}
        for i in base:
            digits[str(cpr[i] // 1_000_000_000)].append(i)
        self._first_digit = digits
        self._cpr_keys()
        # Each task's place in the default view, and those places grouped by name: a search
        # there is answered from the tasks it can match (the second letter typed would
        # otherwise test every task the first letter found, ~20 ms).
        rank = array("i", [-1]) * len(self)
        counts = array("i", bytes(4 * len(self._name_count)))
        for r, i in enumerate(base):
            rank[i] = r
            counts[names[i]] += 1
        starts = array("i", bytes(4 * len(counts)))
        total = 0
        for c, n in enumerate(counts):
            starts[c] = total
            total += n
        fill = array("i", starts)
        grouped = array("i", bytes(4 * total))
        for r, i in enumerate(base):
            c = names[i]
            grouped[fill[c]] = r
            fill[c] += 1
        self._open_ranks_by_name, self._open_name_count, self._open_name_starts = grouped, counts, starts
        self._rank = rank
        # The filter's choices on the default view: one array per event and workaround.
        for name in ("event_code", "workaround_id", "assignee"):
            col = getattr(self, name)
            groups: dict[int, array] = {}
            for i in base:
                got = groups.get(col[i])
                if got is None:
                    got = groups[col[i]] = array("i")
                got.append(i)
            values = self.values[name]
            self._default_groups[name] = {values[c]: a for c, a in groups.items()}
        for sort in (*_FULL_REVERSE, *_GROUP_SORT):
            for desc in (False, True):
                self.by_status(sort, desc, "open")
        for status in self.values["status"]:  # the status filter's other values, by due date
            if status:
                self.by_status("due", False, status)

    @staticmethod
    def _letters(low: str, folded: str) -> set[str]:
        """Every single character whose search (``.inbox._NAME_MATCH``) hits this name."""
        out = set(low) | set(folded)
        for c, f in (("ø", "o"), ("æ", "ae"), ("å", "aa")):
            if f in folded:
                out.add(c)
        return out

    # -- ordering -----------------------------------------------------------------------
    def order(self, sort: str, descending: bool) -> array:
        key = (sort, descending)
        got = self._orders.get(key)
        if got is not None:
            return got
        if sort not in _FULL_REVERSE and sort not in _GROUP_SORT:
            return self.order("due", descending)
        if sort in _FULL_REVERSE:
            if descending:
                return self.order(sort, False)[::-1]  # a C-level copy (~0.1 ms): not kept
            if sort == "cpr":
                cpr = self.cpr  # Rows are in rid order and Python's sort is stable: (cpr, rid).
                out = _positions(sorted(range(len(self)), key=cpr.__getitem__))
            else:
                out = _by_code(getattr(self, sort), len(self.values[sort]), range(len(self)))
        else:
            column = _COLUMN.get(sort, sort)
            # (due, rid) ascending inside each group, the groups in either order
            out = _by_code(getattr(self, column), len(self.values[column]), self.order("due", False), descending)
        self._orders[key] = out
        return out

    # -- selecting ----------------------------------------------------------------------
    def _default_base(self) -> array | None:
        return self._by_status.get(DEFAULT_VIEW)

    def _code(self, column: str, value: Any) -> int | None:
        """The code of ``value`` in ``column`` (None: no task has it)."""
        lookup = self._code_of.get(column)
        if lookup is None:
            lookup = self._code_of[column] = {v: c for c, v in enumerate(self.values[column])}
        return lookup.get(value)

    def by_status(self, sort: str, descending: bool, status: str | None) -> array:
        """The order for ``sort`` with only ``status`` rows (cached: nearly every query has one)."""
        if not status:
            return self.order(sort, descending)
        if descending and sort in _FULL_REVERSE:
            return self.by_status(sort, False, status)[::-1]  # not kept (see order)
        key = (sort, descending, status)
        got = self._by_status.get(key)
        if got is None:
            code = self._code("status", status)
            col = self.status
            got = self._by_status[key] = _positions(i for i in self.order(sort, descending) if col[i] == code)
        return got

    def select(self, q: InboxQuery, previous: tuple[InboxQuery, array] | None = None) -> array:
        """Positions of the tasks matching ``q``, in ``q``'s order.

        ``previous`` (the last query and its result) lets one more typed letter narrow the
        previous result instead of scanning everything.
        """
        q = replace(q, search=parse_search(q.search).normalised)
        hit = self._recent.get(q)
        if hit is not None:
            self._recent.move_to_end(q)
            return hit
        out = self._select(q, previous)
        self._recent[q] = out
        if len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        return out

    def _cpr_keys(self) -> array:
        if self._cpr_sorted is None:
            cpr = self.cpr
            self._cpr_sorted = array("q", (cpr[i] for i in self.order("cpr", False)))
        return self._cpr_sorted

    def _name_codes(self, s: Search) -> frozenset[int]:
        """The name codes whose name matches ``s`` (each distinct name tested once; a longer
        term only tests the names the shorter one matched)."""
        got = self._names_hit.get(s.term)
        if got is not None:
            return got
        # The names a one-character search on the term's first letter finds hold every match.
        pool: Iterable[int] = self._letter_names.get(s.term[0], range(len(self._low)))
        if self._pair_names and len(s.term) > 1 and len(s.folded) > 1:
            # A match holds the term's first two characters, or its folded form's.
            empty = array("i")
            by_raw, by_folded = self._pair_names.get(s.term[:2], empty), self._pair_names.get(s.folded[:2], empty)
            pool = by_raw if s.term[:2] == s.folded[:2] else set(by_raw).union(by_folded)
        for old, codes in reversed(self._names_hit.items()):
            if parse_search(old).narrows_to(s):
                pool = min(pool, codes, key=len)  # type: ignore[arg-type]
                break
        low, folded, raw, f = self._low, self._folded, s.term, s.folded
        got = frozenset(c for c in pool if raw in low[c] or f in folded[c])
        self._names_hit[s.term] = got
        if len(self._names_hit) > RECENT:
            self._names_hit.popitem(last=False)
        return got

    def count(self, q: InboxQuery) -> int:
        """How many tasks ``q`` matches; all statuses with a search alone is answered without
        a pass over the rows (the "nothing found, N hidden by the status filter" note)."""
        s = parse_search(q.search)
        if q.status is None and not (q.event_code or q.workaround_id or q.assignee):
            if s.kind == "cpr":
                if len(s.term) > 10:
                    return 0
                keys = self._cpr_keys()
                return (bisect_right(keys, int(s.term.ljust(10, "9")))
                        - bisect_left(keys, int(s.term.ljust(10, "0"))))
            if s.kind == "name":
                count = self._name_count
                return sum(count[c] for c in self._name_codes(s))
        return len(self.select(q))

    def _select(self, q: InboxQuery, previous: tuple[InboxQuery, array] | None) -> array:
        s = parse_search(q.search)
        base = None
        if previous is not None:
            pq, presult = previous
            if replace(pq, search="") == replace(q, search="") and parse_search(pq.search).narrows_to(s):
                base = presult
        if base is None:
            base = self.by_status(q.sort, q.descending, q.status)
        out: Iterable[int] = base
        default_view = base is self._default_base() and not (q.event_code or q.workaround_id or q.assignee)
        # The default view with only a search: the matching tasks can be picked from the
        # tasks the search could match at all, when there are fewer of those than in ``base``.
        plain = (self._rank is not None and (q.sort, q.descending, q.status) == DEFAULT_VIEW
                 and not (q.event_code or q.workaround_id or q.assignee))
        if s.kind == "cpr":
            if len(s.term) == 1 and default_view and self._first_digit is not None:
                return self._first_digit.get(s.term, array("i"))
            if len(s.term) > 10:
                return array("i")
            lo, hi = int(s.term.ljust(10, "0")), int(s.term.ljust(10, "9"))
            if plain:
                keys = self._cpr_keys()
                a, b = bisect_left(keys, lo), bisect_right(keys, hi)
                if b - a < len(base):
                    return self._in_default_view(self.order("cpr", False)[a:b])
            cpr = self.cpr
            out = [i for i in out if lo <= cpr[i] <= hi]
        elif s.kind == "name":
            if len(s.term) == 1 and default_view and self._first_letter is not None:
                return self._first_letter.get(s.term, array("i"))
            codes = self._name_codes(s)
            if plain:
                count = self._open_name_count
                if sum(count[c] for c in codes) < len(base):
                    grouped, starts = self._open_ranks_by_name, self._open_name_starts
                    ranks = array("i")
                    for c in codes:
                        ranks += grouped[starts[c]:starts[c] + count[c]]
                    return self._at_ranks(ranks)
            names = self.name
            out = [i for i in out if names[i] in codes]
        elif (base is self._default_base() and self._default_groups
              and bool(q.event_code) + bool(q.workaround_id) + bool(q.assignee) == 1):
            if q.event_code:
                return self._default_groups["event_code"].get(q.event_code, array("i"))
            column, value = ("workaround_id", q.workaround_id) if q.workaround_id else ("assignee", q.assignee)
            return self._default_groups[column].get(None if value == "none" else value, array("i"))
        filters = []
        if q.event_code:
            filters.append(("event_code", q.event_code))
        if q.workaround_id:
            filters.append(("workaround_id", None if q.workaround_id == "none" else q.workaround_id))
        if q.assignee:
            filters.append(("assignee", None if q.assignee == "none" else q.assignee))
        for column, value in filters:
            code = self._code(column, value)
            if code is None:
                return array("i")
            col = getattr(self, column)
            out = [i for i in out if col[i] == code]
        return out if isinstance(out, array) else _positions(out)

    def _in_default_view(self, positions: Iterable[int]) -> array:
        """Those of ``positions`` that are in the default view, in its order."""
        rank = self._rank
        assert rank is not None
        ranks = [rank[p] for p in positions]
        return self._at_ranks([r for r in ranks if r >= 0])

    def _at_ranks(self, ranks: Iterable[int]) -> array:
        """The default view's tasks at ``ranks`` (places in it, any order), in its order."""
        base = self._default_base()
        assert base is not None
        return array("i", [base[r] for r in sorted(ranks)])

    def rids(self, positions: Iterable[int]) -> list[int]:
        rid = self.rid
        return [rid[p] for p in positions]

    def nbytes(self) -> dict[str, int]:
        """Bytes held per column (for bench/README.md): key arrays plus their value tables."""
        from sys import getsizeof

        out = {"rid": self.rid.itemsize * len(self.rid), "cpr": self.cpr.itemsize * len(self.cpr)}
        for k in ("due", "received", "status", "event_code", "workaround_id", "name", "assignee"):
            col = getattr(self, k)
            table = sum(getsizeof(v) for v in self.values[k]) + getsizeof(self.values[k])
            out[k] = col.itemsize * len(col) + table
        out["name"] += sum(getsizeof(s) for s in self._low) + sum(getsizeof(s) for s in self._folded)
        out["sort orders"] = sum(a.itemsize * len(a) for a in (*self._orders.values(), *self._by_status.values()))
        out["one-character searches"] = sum(a.itemsize * len(a) for d in (self._first_letter or {}, self._first_digit or {})
                                            for a in d.values())
        out["default view ranks"] = sum(a.itemsize * len(a) for a in (
            self._rank or array("i"), self._open_ranks_by_name, self._open_name_count, self._open_name_starts))
        out["two-character name pairs"] = sum(a.itemsize * len(a) for a in self._pair_names.values())
        out["filter groups"] = sum(a.itemsize * len(a) for g in self._default_groups.values() for a in g.values())
        return out
