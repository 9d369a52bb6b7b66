"""2.7.1 / 2.7.5 renumbering (P03): the old number ceased, its doctor moved to the new number
(forced if the practice is closed), the old choice ended; or a relation only, the task closed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date


from sygesikring_tui.domain.model import CprNumberChange, GroupRegistration, PersonState, TaskStatus
from sygesikring_tui.domain.wizards import WIZARDS, texts
from sygesikring_tui.store import Store
from tests.factories import CLOSED, OPEN, a_cpr, a_person, a_task
from tests.wizard_kit import TODAY, commit, ctx_for, put, walk
from tests.wizard_kit import op_tuples as strip_at


def _renumbered(store: Store, doctor=CLOSED) -> tuple[PersonState, PersonState]:
    old_cpr = a_cpr(date(1980, 3, 14), seed=11)
    new_cpr = a_cpr(date(1980, 3, 14), seed=12)
    change = CprNumberChange(old_cpr, new_cpr, date(2026, 11, 20))
    old = replace(a_person(old_cpr, doctor=doctor), cpr_changes=(change,))
    new = replace(a_person(new_cpr, group=2, doctor=None), cpr_changes=(change,),
                  tasks=(a_task(new_cpr, "P03", "t-p03"),))
    put(store, old, new)
    return old, new


def test_renumbering_moves_closed_doctor_forced_and_ceases_old_number(store: Store) -> None:
    old, new = _renumbered(store, doctor=CLOSED)
    w = WIZARDS["renumbering"]
    ctx = ctx_for(store, w, new.cpr, "t-p03")
    draft = walk(w, ctx, {})
    assert draft["changed"] == "yes" and draft["old_cpr"].replace("-", "") == old.cpr
    assert draft["effective"] == "2026-11-20"  # group 8 and the doctor's move from the renumbering date
    planned = w.plan(draft, ctx.states, ctx)
    link = texts.note_link(old.cpr, new.cpr, date(2026, 11, 20))
    assert strip_at(planned) == [
        (old.cpr, "group_switch", {"group": 8, "effective": "2026-11-20", "reason": texts.REASON_OLD_CEASED}),
        (old.cpr, "note_add", {"text": texts.note_old_doctor(new.cpr, CLOSED.practice_name, CLOSED.provider_number)}),
        (new.cpr, "group_switch", {"group": 1, "effective": "2026-11-20", "reason": texts.REASON_NEW_GROUP1}),
        (new.cpr, "doctor_choice", {"provider_number": CLOSED.provider_number,
                                    "practice_name": CLOSED.practice_name, "reason": "omnummerering",
                                    "effective": "2026-11-20", "forced": True, "force_rule": "renumbering",
                                    "fee": {"paid": False, "amount": 0, "reason": texts.FEE_FREE_RENUMBERING,
                                            "code": "renumbering"}}),
        (old.cpr, "doctor_choice_end", {"choice_id": old.doctors[0].id, "end": "2026-11-20"}),
        (new.cpr, "note_add", {"text": link}),
        (old.cpr, "note_add", {"text": link}),
        (new.cpr, "task_close", {"task_id": "t-p03", "reason": texts.CLOSE_RENUMBERED}),
    ]
    case, ops = commit(store, w, new.cpr, "t-p03", planned)
    o, n = store.load_person(old.cpr), store.load_person(new.cpr)
    assert o.current_group(TODAY).group == 8
    assert n.current_group(TODAY).group == 1
    doc = n.current_doctor(TODAY)
    assert (doc.provider_number, doc.forced, doc.force_rule, doc.fee.paid) == (CLOSED.provider_number, True,
                                                                             "renumbering", False)
    assert [x.text for x in n.notes] == [link]
    assert CLOSED.practice_name in o.notes[0].text and o.notes[1].text == link
    assert n.task("t-p03").status == TaskStatus.CLOSED
    outbox = store.outbox("pending")
    assert [r["kind"] for r in outbox] == [p.kind for p in planned]
    # base versions: each operation is based on the person's version at that point
    assert [r["base_version"] for r in outbox if r["cpr"] == old.cpr] == [1, 2, 3, 4]
    # the old number no longer holds the doctor: the practice lists the new number only (2.7.5)
    assert o.current_doctor(TODAY) is None and n.current_doctor(TODAY).provider_number == CLOSED.provider_number
    assert [r["base_version"] for r in outbox if r["cpr"] == new.cpr] == [1, 2, 3, 4]


def test_renumbering_open_doctor_is_not_forced_and_group1_is_not_switched_again(store: Store) -> None:
    old, new = _renumbered(store, doctor=OPEN)
    put(store, replace(store.load_person(new.cpr), groups=(GroupRegistration("g1", 1, date(2026, 11, 20)),)))
    w = WIZARDS["renumbering"]
    ctx = ctx_for(store, w, new.cpr, "t-p03")
    planned = w.plan(walk(w, ctx, {}), ctx.states, ctx)
    kinds = [(p.cpr == new.cpr, p.kind) for p in planned]
    assert (True, "group_switch") not in kinds
    choice = next(p for p in planned if p.kind == "doctor_choice")
    assert choice.payload["forced"] is False and "force_rule" not in choice.payload
    commit(store, w, new.cpr, "t-p03", planned)
    assert store.load_person(new.cpr).current_doctor(TODAY).provider_number == OPEN.provider_number


def test_relation_p03_can_only_close_the_task_with_the_relation_reason(store: Store) -> None:
    number = a_cpr(date(1975, 2, 3), seed=21)
    rel = a_person(number, tasks=(a_task(number, "P03", "t-rel"),))
    put(store, rel)
    w = WIZARDS["renumbering"]
    ctx = ctx_for(store, w, number, "t-rel")
    step = w.steps[0]
    errs = w.validate_step(step, {"changed": "yes"}, ctx)
    assert [e.key for e in errs] == ["rule.renumbering_no_change"]
    draft = walk(w, ctx, {})
    assert draft["changed"] == "no"
    assert [w.steps[i].id for i in w.active_steps(draft, ctx)] == ["history", "relation"]
    planned = w.plan(draft, ctx.states, ctx)
    assert strip_at(planned) == [(number, "task_close", {"task_id": "t-rel",
                                                         "reason": "relation – personnummer ikke ændret (2.7.1)"})]
    commit(store, w, number, "t-rel", planned)
    st = store.load_person(number)
    assert st.task("t-rel").status == TaskStatus.CLOSED and st.groups == rel.groups and st.doctors == rel.doctors


def test_renumbering_rejects_a_typed_old_number_not_in_the_history(store: Store) -> None:
    old, new = _renumbered(store)
    w = WIZARDS["renumbering"]
    ctx = ctx_for(store, w, new.cpr, "t-p03")
    step = w.steps[w.step_index("old")]
    bad = {"changed": "yes", "old_cpr": "3213451234", "effective": "2026-11-25"}
    assert [e.key for e in w.validate_step(step, bad, ctx)] == ["cpr.date"]
    other = a_cpr(date(1990, 5, 6), seed=3)
    assert [e.key for e in w.validate_step(step, {**bad, "old_cpr": other}, ctx)] == [
        "wizard.renumbering.error.not_in_history"]
    assert [e.key for e in w.validate_step(step, {**bad, "old_cpr": old.cpr, "effective": "25/13/2026"}, ctx)] == [
        "date.invalid"]
    assert [e.key for e in w.validate_step(step, {**bad, "old_cpr": old.cpr, "effective": "01-11-2026"}, ctx)] == [
        "wizard.renumbering.error.before_change"]
