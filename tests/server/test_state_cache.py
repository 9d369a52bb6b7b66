"""The server's cache of decoded persons is keyed by (cpr, version) and filled only after a
commit: a refused batch leaves no trace in it, and a second server process on the same
database never decides on a stale cached state."""

from __future__ import annotations

import random
import uuid

import pytest
from srvkit import load_records, make_person

from sygesikring_tui.server.storage import BodyMismatch, Storage


def _note(cpr: str, base: int, text: str = "x", op_id: str | None = None) -> dict:
    return {"op_id": op_id or str(uuid.uuid4()), "kind": "note_add", "cpr": cpr, "base_version": base,
            "case_id": None, "payload": {"text": text, "at": "2026-03-02T10:00:00+01:00"}}


def test_a_write_that_fails_after_the_person_rows_leaves_nothing_in_the_cache(db_url, monkeypatch):
    storage = Storage(db_url)
    try:
        p = make_person(random.Random(1))
        storage.load(load_records([p]))
        token = storage.add_desk("d", 751)[1]
        desk = storage.desk_for_token(token)
        def failing(conn, rows):
            raise RuntimeError("injected: the database failed mid-write")

        monkeypatch.setattr(storage.repo, "add_ops", failing)  # after the person rows are written
        with pytest.raises(RuntimeError):
            storage.push(desk, [_note(p.cpr, p.version, "lost with the transaction")])
        monkeypatch.undo()
        assert storage.all_persons()[p.cpr].version == p.version
        # Another server process writes the same version number with other content ...
        other = Storage(db_url)
        try:
            again = other.push(other.desk_for_token(token), [_note(p.cpr, p.version, "after the failure")])
        finally:
            other.close()
        assert again[0]["status"] == "applied" and again[0]["version"] == p.version + 1
        # ... and this one must build on that, not on what it had in memory for that version.
        assert storage.push(desk, [_note(p.cpr, p.version + 1, "next")])[0]["status"] == "applied"
        assert [n.text for n in storage.all_persons()[p.cpr].notes] == ["after the failure", "next"]
        # and a refused batch (422) neither
        with pytest.raises(BodyMismatch):
            storage.push(desk, [_note(p.cpr, p.version + 2), {**_note(p.cpr, 0, op_id=again[0]["op_id"])}])
        assert storage.push(desk, [_note(p.cpr, p.version + 2)])[0]["status"] == "applied"
    finally:
        storage.close()


def test_two_server_processes_on_one_database_never_decide_on_a_stale_cached_state(db_url):
    one, two = Storage(db_url), Storage(db_url)
    try:
        p = make_person(random.Random(3))
        one.load(load_records([p]))
        token = one.add_desk("d", 751)[1]
        d1, d2 = one.desk_for_token(token), two.desk_for_token(token)
        assert one.push(d1, [_note(p.cpr, p.version, "first")])[0]["status"] == "applied"  # one caches v2
        assert one.cache.hits + one.cache.misses > 0
        assert two.push(d2, [_note(p.cpr, p.version + 1, "second")])[0]["status"] == "applied"  # v3
        stale = one.push(d1, [_note(p.cpr, p.version + 1, "on the stale version")])[0]
        assert stale["status"] == "conflict" and stale["version"] == p.version + 2
        fresh = one.push(d1, [_note(p.cpr, p.version + 2, "third")])[0]
        assert fresh["status"] == "applied"
        assert [n.text for n in two.all_persons()[p.cpr].notes] == ["first", "second", "third"]
    finally:
        one.close()
        two.close()


def test_the_cache_is_bounded(tmp_path):
    storage = Storage(str(tmp_path / "s.db"))
    try:
        storage.cache.size = 3
        people = [make_person(random.Random(10 + i)) for i in range(6)]
        storage.load(load_records(people))
        desk = storage.desk_for_token(storage.add_desk("d", 751)[1])
        storage.push(desk, [_note(p.cpr, p.version) for p in people])
        assert len(storage.cache.entries) == 3
        hits = storage.cache.hits
        storage.push(desk, [_note(people[-1].cpr, people[-1].version + 1)])  # recent: cached
        assert storage.cache.hits == hits + 1
        storage.push(desk, [_note(people[0].cpr, people[0].version + 1)])  # evicted: read again
        assert storage.cache.hits == hits + 1
    finally:
        storage.close()
