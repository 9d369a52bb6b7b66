"""The inbox's in-memory index answers exactly what the store's inbox queries answer (every
sort, filter and search; tests/test_inbox_search.py runs the caseworker's searches on both)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from sygesikring_tui.store import inbox, open_store
from sygesikring_tui.store.inbox import SORTS, InboxQuery
from sygesikring_tui.store.inbox_index import InboxIndex


@pytest.fixture(params=["cold", "warm"])
def store_and_index(training_store, request):
    """The index as loaded (answers by scanning) and after ``warm()`` (precomputed orders
    and one-character searches): both must answer like SQLite."""
    store = open_store(training_store, create=False)
    index = InboxIndex.load(training_store)
    if request.param == "warm":
        index.warm()
    yield store, index
    store.close()


def _rids(index: InboxIndex, positions) -> list[int]:
    return index.rids(positions)


def test_every_sort_and_direction_gives_the_same_order_as_sqlite(store_and_index):
    store, index = store_and_index
    for sort, desc, status in itertools.product(SORTS, (False, True), ("open", "closed", None)):
        q = InboxQuery(status=status, sort=sort, descending=desc)
        assert _rids(index, index.select(q)) == list(inbox.ids(store, q)), q


def test_filters_and_searches_match_sqlite(store_and_index):
    store, index = store_and_index
    some = store.conn.execute("SELECT cpr, name, event_code, workaround_id FROM tasks ORDER BY rid DESC LIMIT 1").fetchone()
    cpr, name, event, wa = some
    queries = [
        InboxQuery(event_code=event), InboxQuery(workaround_id="none"), InboxQuery(workaround_id=wa, status=None),
        InboxQuery(search=name.split()[0]), InboxQuery(search=name.split()[-1].upper()),
        InboxQuery(search=cpr[:4]), InboxQuery(search=f"{cpr[:6]}-{cpr[6:]}"), InboxQuery(search="  x  "),
        InboxQuery(search=cpr[:2], sort="name", descending=True), InboxQuery(search="e", event_code=event, sort="event"),
        InboxQuery(search="zzzz-not-a-name"),
    ]
    for q in queries:
        assert _rids(index, index.select(q)) == list(inbox.ids(store, q)), q


def test_typing_and_backspacing_narrow_and_widen_like_fresh_queries(store_and_index):
    store, index = store_and_index
    name = store.conn.execute("SELECT name FROM tasks ORDER BY rid LIMIT 1").fetchone()[0].lower()
    typed = [name[:i] for i in range(1, min(len(name), 8) + 1)]
    previous = None
    for term in typed + typed[::-1][1:] + [""]:
        q = InboxQuery(search=term)
        got = index.select(q, previous)
        assert _rids(index, got) == list(inbox.ids(store, q)), term
        previous = (q, got)


def test_one_character_searches_match_sqlite_in_every_view(store_and_index):
    store, index = store_and_index
    chars = sorted({c for (s,) in store.conn.execute("SELECT search FROM tasks") for c in s}) + ["q", "é"]
    for c in chars:
        for q in (InboxQuery(search=c), InboxQuery(search=c, sort="name"), InboxQuery(search=c, status=None)):
            assert _rids(index, index.select(q)) == list(inbox.ids(store, q)), q


def test_count_matches_sqlite_for_searches_over_every_status(store_and_index):
    store, index = store_and_index
    cpr, name = store.conn.execute("SELECT cpr, name FROM tasks ORDER BY rid DESC LIMIT 1").fetchone()
    for term in (cpr, cpr[:3], cpr[:6] + "-" + cpr[6:], "9" * 11, name.split()[-1], "e", "ø", "zzz"):
        for status in (None, "open"):
            q = InboxQuery(search=term, status=status)
            assert index.count(q) == inbox.count(store, q) == len(index.select(q)), q


def test_two_character_and_longer_searches_in_the_default_view_match_sqlite(store_and_index):
    """The default view answers a search from the tasks it can match (by two characters of
    the name, or the CPR range), not by testing every task: same tasks, same order."""
    store, index = store_and_index
    names = [n.lower() for (n,) in store.conn.execute("SELECT DISTINCT name FROM tasks ORDER BY name LIMIT 40")]
    terms = sorted({n[k:k + 2] for n in names for k in range(len(n) - 1)}) + [
        "oe", "ø", "øs", "soe", "sø", "ae", "æ", "aa", "å", "zq", names[0][:5], names[-1][1:6]]
    cprs = [c for (c,) in store.conn.execute("SELECT cpr FROM tasks ORDER BY rid LIMIT 5")]
    terms += [c[:k] for c in cprs for k in (2, 4, 6, 10)] + ["99", "00"]
    previous = None
    for term in terms:
        q = InboxQuery(search=term)
        got = index.select(q, previous)
        assert _rids(index, got) == list(inbox.ids(store, q)), term
        assert index.count(replace(q, status=None)) == inbox.count(store, replace(q, status=None)), term
        previous = (q, got)


def test_each_filter_value_alone_matches_sqlite(store_and_index):
    """Every status, event, workaround and claim value the filter line steps through (the
    warmed index answers them from kept groups, not by a pass over the tasks)."""
    store, index = store_and_index
    column = lambda c: [v for (v,) in store.conn.execute(f"SELECT DISTINCT {c} FROM tasks WHERE {c} IS NOT NULL")]
    queries = [InboxQuery(status=s) for s in ("open", "closed", None)]
    queries += [InboxQuery(event_code=v) for v in column("event_code")]
    queries += [InboxQuery(workaround_id=v) for v in ["none", *column("workaround_id")]]
    queries += [InboxQuery(assignee=v) for v in ["none", "XYZ", *column("assignee")]]
    assert any(q.assignee not in (None, "none", "XYZ") for q in queries)  # the store has claimed tasks
    for q in queries:
        assert _rids(index, index.select(q)) == list(inbox.ids(store, q)), q
