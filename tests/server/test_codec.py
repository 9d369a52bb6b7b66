"""The server's fast codec gives exactly the domain codec's output, both ways."""

from __future__ import annotations

import json
import random

from srvkit import make_person, commit
from sygesikring_tui.domain.model import PersonState, Provider, from_json, to_json
from sygesikring_tui.server import codec
from sygesikring_tui.store import open_store


def test_fast_codec_matches_the_domain_codec_on_rich_states(tmp_path):
    store = open_store(tmp_path / "d.db")
    rng = random.Random(4)
    people = [make_person(rng, n_tasks=2, group=g) for g in (1, 2, 1)]
    with store.transaction():
        store.upsert_providers([Provider("012345", "Lægerne", True, 751, 56.1, 10.2, "x")])
        for p in people:
            store.save_person(p)
    p = people[0].cpr
    commit(store, p, "note_add", {"text": "æøå"})
    commit(store, p, "followup_add", {"text": "ring igen", "due": "2026-04-01"})
    commit(store, p, "card_order", {"ordered_on": "2026-03-02", "fee": {"paid": True, "amount": 225, "reason": "x", "code": "lost"}})
    commit(store, p, "group_switch", {"group": 2, "effective": "2026-04-01", "reason": "valgt"})
    for person in people:
        state = store.load_person(person.cpr)
        assert codec.to_json(state) == to_json(state)
        doc = json.loads(json.dumps(to_json(state)))
        assert codec.from_json(PersonState, doc) == from_json(PersonState, doc)
    assert codec.from_json(PersonState, {**doc, "training": None}) == from_json(PersonState, {**doc, "training": None})


def test_incremental_person_encoding_equals_the_domain_codec_and_the_desks_stored_doc(tmp_path):
    """A state derived by operations re-encodes only what changed; the texts must equal the
    domain codec's, and the doc without tasks must equal what Store.save_person stores."""
    import dataclasses

    store = open_store(tmp_path / "d.db")
    with store.transaction():
        store.upsert_providers([Provider("012345", "Lægerne", True, 751, 56.1, 10.2, "x")])
        store.save_person(make_person(random.Random(7), n_tasks=2))
    cpr = store.conn.execute("SELECT cpr FROM persons").fetchone()[0]
    base = codec.encode_person(store.load_person(cpr))
    stored = codec.decode_person(codec.core_text(base), codec.tasks_text(base))
    assert stored.state == base.state
    prev = stored
    for kind, payload in [("note_add", {"text": "første"}), ("note_add", {"text": "anden"}),
                          ("group_switch", {"group": 2, "effective": "2026-04-01", "reason": "valgt"}),
                          ("followup_add", {"text": "ring", "due": "2026-04-01"})]:
        commit(store, cpr, kind, payload)
        new_state = store.load_person(cpr)
        # the desk re-reads its state; derive it from the previous one as the server would
        derived = dataclasses.replace(prev.state, **{f.name: getattr(new_state, f.name)
                                                    for f in dataclasses.fields(new_state)
                                                    if getattr(new_state, f.name) != getattr(prev.state, f.name)})
        enc = codec.encode_person(derived, prev)
        assert json.loads(codec.doc_text(enc)) == to_json(new_state)
        assert codec.doc_text(enc) == json.dumps(to_json(new_state), ensure_ascii=False)
        desk_doc = store.conn.execute("SELECT doc FROM persons WHERE cpr = ?", (cpr,)).fetchone()[0]
        assert codec.core_text(enc) == desk_doc
        prev = enc


def test_appended_tuple_fields_reuse_the_old_json_and_match_a_fresh_encoding():
    import dataclasses

    from sygesikring_tui.domain.model import Note

    state = make_person(random.Random(8), n_tasks=1)
    base = codec.encode_person(state)
    grown = dataclasses.replace(state, notes=state.notes + (Note("n1", "2026-03-02T10:00", "sb", "æøå"),),
                                version=state.version + 1)
    enc = codec.encode_person(grown, base)
    assert enc.raw["groups"] is base.raw["groups"]  # unchanged: shared, not converted again
    assert codec.doc_text(enc) == codec.doc_text(codec.encode_person(grown))
    assert base.raw["notes"] == []  # the base's JSON form is never mutated
