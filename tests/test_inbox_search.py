"""One set of inbox queries, run against both search paths: SQLite (``store.inbox``, used
before the index is loaded and for stores too large to index) and the in-memory index
(``store.inbox_index``, cold and warmed). Both must give the same tasks in the same order,
and both must do what a caseworker expects of a search."""

from __future__ import annotations

import sqlite3

import pytest

from sygesikring_tui.store import inbox, open_store
from sygesikring_tui.store.inbox import InboxQuery, fold, parse_search
from sygesikring_tui.store.inbox_index import InboxIndex

# Persons renamed in the test store (CPR numbers taken from its first tasks).
NAMES = ["Jens Sørensen", "Mette Soerensen", "Karen Sorensen", "Åge Læsø", "Aage Laesoe", "Hans-Erik Ærø"]


@pytest.fixture
def renamed_store(training_store):
    conn = sqlite3.connect(training_store)
    cprs = [r[0] for r in conn.execute("SELECT DISTINCT cpr FROM tasks ORDER BY rid LIMIT ?", (len(NAMES),))]
    with conn:
        for cpr, name in zip(cprs, NAMES):
            # as the store's writers do: search = "<cpr> <name lowered by Python>"
            conn.execute("UPDATE tasks SET name = ?, search = ? WHERE cpr = ?", (name, f"{cpr} {name.lower()}", cpr))
    conn.close()
    return training_store, dict(zip(NAMES, cprs))


@pytest.fixture(params=["sqlite", "index", "index-warm"])
def search(renamed_store, request):
    """A function: query -> the names of the matching tasks, in order, on one search path."""
    path, cprs = renamed_store
    store = open_store(path, create=False)
    if request.param == "sqlite":
        def run(q: InboxQuery) -> list[str]:
            return [r["name"] for r in inbox.page(store, q, 0, 10**6)]
    else:
        index = InboxIndex.load(path)
        assert index is not None
        if request.param == "index-warm":
            index.warm()
        names = {r[0]: r[1] for r in store.conn.execute("SELECT rid, name FROM tasks")}

        def run(q: InboxQuery) -> list[str]:
            return [names[rid] for rid in index.rids(index.select(q))]
    run.cprs = cprs  # type: ignore[attr-defined]
    yield run
    store.close()


def _found(search, term: str, folded: str) -> set[str]:
    """The names found for ``term``; each must contain ``folded`` once Danish letters are folded
    (the training data has Sørensens of its own)."""
    got = set(search(InboxQuery(search=term, status=None)))
    assert all(folded in fold(n.lower()) for n in got), (term, got)
    return got


def test_danish_letters_match_their_ascii_spellings(search):
    for term in ("sorensen", "soerensen", "sørensen", "SØRENSEN"):
        assert {"Jens Sørensen", "Mette Soerensen", "Karen Sorensen"} <= _found(search, term, "sorensen"), term
    for term in ("aage", "åge"):
        assert {"Åge Læsø", "Aage Laesoe"} <= _found(search, term, "aage"), term
    for term in ("laesoe", "læsø", "laeso"):
        assert {"Åge Læsø", "Aage Laesoe"} <= _found(search, term, "laeso"), term
    assert "Hans-Erik Ærø" in _found(search, "aero", "aero")
    assert "Hans-Erik Ærø" in _found(search, "hans-erik", "hans-erik")
    assert search(InboxQuery(search="sorensen", status=None)) != []


def test_a_cpr_number_with_or_without_hyphen_is_a_prefix_search(search):
    cpr = search.cprs["Jens Sørensen"]
    for term in (cpr, f"{cpr[:6]}-{cpr[6:]}", cpr[:8]):
        got = search(InboxQuery(search=term, status=None))
        assert "Jens Sørensen" in got, term
    whole = search(InboxQuery(search=cpr, status=None))
    assert whole and set(whole) == {"Jens Sørensen"}
    assert search(InboxQuery(search=cpr + "1", status=None)) == []


def test_search_keeps_the_sort_order_and_the_status_filter(search):
    everyone = search(InboxQuery(search="sen", status=None, sort="name"))
    assert everyone == sorted(everyone) and everyone
    assert search(InboxQuery(search="sen", status=None, sort="name", descending=True)) == everyone[::-1]
    open_ = search(InboxQuery(search="sen", status="open", sort="name"))
    closed = search(InboxQuery(search="sen", status="closed", sort="name"))
    assert sorted(open_ + closed) == everyone


def test_nothing_typed_is_no_filter_and_an_unknown_name_finds_nothing(search):
    assert search(InboxQuery(search="  -  ")) == search(InboxQuery())
    assert search(InboxQuery(search="zzzz-no-such-name", status=None)) == []


def test_both_paths_give_identical_results_for_every_folded_prefix(renamed_store):
    path, _ = renamed_store
    store = open_store(path, create=False)
    index = InboxIndex.load(path)
    index.warm()
    previous = None
    try:
        for typed in ("s", "so", "soe", "soer", "soere", "soer", "so", "s", "l", "læ", "læs", "læsø", "ø", "æ", "å"):
            q = InboxQuery(search=typed)
            got = index.select(q, previous)
            assert index.rids(got) == list(inbox.ids(store, q)), typed
            previous = (q, got)
    finally:
        store.close()


def test_parse_search_tells_cpr_digits_from_names():
    assert parse_search(" 010101-1234 ").kind == "cpr" and parse_search("0101011234").term == "0101011234"
    assert parse_search("Søren").kind == "name" and parse_search("Søren").folded == "soren"
    assert parse_search(" - ").kind == ""
    assert fold("soeren læsø åge") == "soren laeso aage"


def test_the_claim_filter_mine_and_not_taken_is_the_same_on_every_path(search, renamed_store):
    conn = sqlite3.connect(renamed_store[0])
    expect = {who: [r[0] for r in conn.execute(
        f"SELECT name FROM tasks WHERE status = 'open' AND assignee {'IS NULL' if who == 'none' else '= ?'} "
        "ORDER BY due, rid", () if who == "none" else (who,))] for who in ("AB", "KUR", "none")}
    conn.close()
    assert all(expect.values())  # the training inbox has claimed and free tasks
    for who, names in expect.items():
        assert search(InboxQuery(assignee=who)) == names
        assert search(InboxQuery(assignee=who, search="sen")) == [n for n in names if "sen" in fold(n.lower())
                                                                  or "sen" in n.lower()]
