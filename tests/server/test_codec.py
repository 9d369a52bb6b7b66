"""The one codec (msgspec, in domain.model): the server's person documents are the desk's,
states round-trip exactly, and decoding validates every field."""

from __future__ import annotations

import json
import random

import pytest
from srvkit import commit, make_person

from sygesikring_tui.domain.model import PersonState, Provider, dumps, from_json, loads, to_json
from sygesikring_tui.server import codec
from sygesikring_tui.store import open_store


def _rich_store(tmp_path):
    store = open_store(tmp_path / "d.db")
    rng = random.Random(4)
    people = [make_person(rng, n_tasks=2, group=g) for g in (1, 2, 1)]
    with store.transaction():
        store.upsert_providers([Provider("012345", "Lægerne", True, 751, 56.1, 10.2, "x")])
        for p in people:
            store.save_person(p)
    p = people[0].cpr
    commit(store, p, "note_add", {"text": 'æøå "citat" \\ \n 😀'})
    commit(store, p, "followup_add", {"text": "ring igen", "due": "2026-04-01"})
    commit(store, p, "card_order", {"ordered_on": "2026-03-02",
                                    "fee": {"paid": True, "amount": 225, "reason": "x", "code": "lost"}})
    commit(store, p, "group_switch", {"group": 2, "effective": "2026-04-01", "reason": "valgt"})
    return store, people


def test_rich_states_round_trip_through_text_and_json_ready_values(tmp_path):
    store, people = _rich_store(tmp_path)
    for person in people:
        state = store.load_person(person.cpr)
        assert loads(PersonState, dumps(state)) == state
        assert from_json(PersonState, json.loads(json.dumps(to_json(state)))) == state
        assert json.loads(dumps(state)) == to_json(state)
        enc = codec.encode_person(state)
        assert codec.decode_person(codec.core_text(enc), codec.tasks_text(enc)).state == state
        assert json.loads(codec.doc_text(enc)) == to_json(state)
    store.close()


def test_the_servers_core_document_is_the_text_the_desk_stores(tmp_path):
    store, people = _rich_store(tmp_path)
    for person in people:
        state = store.load_person(person.cpr)
        desk_doc = store.conn.execute("SELECT doc FROM persons WHERE cpr = ?", (person.cpr,)).fetchone()[0]
        assert codec.core_text(codec.encode_person(state)) == desk_doc
    store.close()


@pytest.mark.parametrize("path,bad", [
    (("training",), None),
    (("version",), "3"),
    (("person", "cpr"), 1234567890),
    (("person", "birth_date"), "1. januar"),
    (("groups",), [{"id": "g", "group": "one", "effective": "2020-01-01"}]),
    (("doctors",), [{"id": "d", "provider_number": "1", "practice_name": "x", "reason": "r",
                     "effective": "2020-01-01", "status": "whatever"}]),
])
def test_decoding_validates_every_field(path, bad):
    state = make_person(random.Random(9), n_tasks=1)
    doc = to_json(state)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = bad
    with pytest.raises(ValueError):
        from_json(PersonState, doc)
    with pytest.raises(ValueError):
        loads(PersonState, json.dumps(doc))
