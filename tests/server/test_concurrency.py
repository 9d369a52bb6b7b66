"""N desks x M pushes in threads against one real uvicorn: the sequence stays contiguous and
no update is lost, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
import uuid

import httpx
import pytest
from srvkit import UvicornThread, load_records, make_person

from sygesikring_tui.server.app import create_app
from sygesikring_tui.server.storage import Storage

N_DESKS = 4
M_PUSHES = 15


@pytest.fixture
def live(db_url):
    storage = Storage(db_url)
    srv = UvicornThread(create_app(storage)).start()
    yield storage, srv.url
    srv.stop()
    storage.close()


def test_n_desks_by_m_pushes_keep_a_contiguous_sequence_and_lose_no_update(live):
    storage, url = live
    people = [make_person(random.Random(i)) for i in range(3)]
    storage.load(load_records(people))
    tokens = [storage.add_desk(f"desk {i}", 751)[1] for i in range(N_DESKS)]
    applied: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def desk(i: int) -> None:
        rng = random.Random(i)
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens[i]}"}, timeout=60) as http:
                for m in range(M_PUSHES):
                    cpr = rng.choice(people).cpr
                    text = f"desk {i} push {m}"
                    op_id = str(uuid.uuid4())
                    while True:  # read, change, push; on conflict read again
                        version = http.get(f"/v1/persons/{cpr}").json()["version"]
                        op = {"op_id": op_id, "kind": "note_add", "cpr": cpr, "base_version": version,
                              "case_id": None, "payload": {"text": text, "at": "2026-03-02T10:00:00+01:00"}}
                        r = http.post("/v1/push", json={"training": False, "ops": [op]})
                        r.raise_for_status()
                        ans = r.json()["results"][0]
                        if ans["status"] == "applied":
                            with lock:
                                applied.append((cpr, text))
                            break
                        assert ans["status"] == "conflict", ans
                        op_id = str(uuid.uuid4())  # a new operation made on the fresh version
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=desk, args=(i,)) for i in range(N_DESKS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(applied) == N_DESKS * M_PUSHES
    seqs = storage.change_seqs()
    assert seqs == list(range(1, storage.head() + 1))
    final = storage.all_persons()
    for p in people:
        texts = sorted(n.text for n in final[p.cpr].notes)
        assert texts == sorted(t for c, t in applied if c == p.cpr)
        assert final[p.cpr].version == p.version + len(texts)
    assert len(storage.applied_op_ids()) == len(set(storage.applied_op_ids())) == N_DESKS * M_PUSHES
