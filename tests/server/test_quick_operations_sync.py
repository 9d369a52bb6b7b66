"""A task closed with a reason, a note and a follow-up ticked off by a caseworker reach the
server as operations like a wizard's, and another desk pulls the same state."""

from __future__ import annotations

import random
from datetime import date

from srvkit import Env, desk_docs, load_records, make_person, server_docs

from sygesikring_tui import sync
from sygesikring_tui.domain.model import TaskStatus
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.store import open_store
from sygesikring_tui.store.followups import tick_followup
from sygesikring_tui.store.quick import add_note, close_task, commit_quick

TODAY = date(2026, 3, 2)


def test_close_with_a_reason_a_note_and_a_tick_sync_to_another_desk(sqlite_env: Env, tmp_path):
    person = make_person(random.Random(11), n_tasks=2)
    sqlite_env.storage.load(load_records([person]))
    a, b = open_store(tmp_path / "a.db"), open_store(tmp_path / "b.db")
    ca, cb = sqlite_env.client(sqlite_env.desk()), sqlite_env.client(sqlite_env.desk())
    sync.sync_once(a, ca)
    cpr = person.cpr
    task_id = person.tasks[0].id
    close_task(a, cpr, task_id, "other", "Klaret ved skranken", TODAY, "Hanne")
    add_note(a, cpr, "Borgeren ringede", TODAY, "Hanne")
    commit_quick(a, "test", cpr, None, [PlannedOp(cpr, "followup_add", {"text": "Ring tilbage"})], TODAY)
    fu = a.load_person(cpr).followups[0]
    tick_followup(a, cpr, fu.id, TODAY, author="Hanne", done=date(2026, 3, 1))
    sync.sync_once(a, ca)
    assert a.outbox("pending") == []
    sync.sync_once(b, cb)
    st = b.load_person(cpr)
    assert (st.task(task_id).status, st.task(task_id).closed_reason) == (TaskStatus.CLOSED,
                                                                         "anden årsag: Klaret ved skranken")
    assert {n.text for n in st.notes} >= {"Klaret ved skranken", "Borgeren ringede"}
    assert (st.followups[0].done, st.followups[0].done_by) == ("2026-03-01", "Hanne")
    assert desk_docs(b, [cpr]) == {cpr: server_docs(sqlite_env.storage)[cpr]}
