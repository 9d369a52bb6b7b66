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
    commit(store, p, "card_order", {"ordered_on": "2026-03-02", "fee": {"paid": True, "amount": 195, "reason": "x"}})
    commit(store, p, "group_switch", {"group": 2, "effective": "2026-04-01", "reason": "valgt"})
    for person in people:
        state = store.load_person(person.cpr)
        assert codec.to_json(state) == to_json(state)
        doc = json.loads(json.dumps(to_json(state)))
        assert codec.from_json(PersonState, doc) == from_json(PersonState, doc)
    assert codec.from_json(PersonState, {**doc, "training": None}) == from_json(PersonState, {**doc, "training": None})
