"""One scenario per wizard: the person the guide describes, the wizard's steps with the
caseworker's answers, the exact operations planned, then the store's end state after commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path

import pytest
import wizard_kit
from factories import AARHUS, CLOSED, FAR, OPEN, a_cpr, a_person, a_task
from wizard_kit import op_tuples as strip_at
from wizard_kit import put, walk

from sygesikring_tui.domain.model import (
    Address,
    AddressEntry,
    CprNumberChange,
    GroupRegistration,
    Note,
    PersonState,
    TaskStatus,
)
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.domain.wizards import (
    WIZARDS,
    Wizard,
    dry_run,
    parse_date,
    texts,
)
from sygesikring_tui.store import Store, open_store
from sygesikring_tui.store.db import RuleViolation
from sygesikring_tui.store.followups import tick_followup

TODAY = date(2026, 11, 25)
FEE = 225
ctx_for = partial(wizard_kit.ctx_for, fee=FEE)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "case.db")
    with s.transaction():
        s.upsert_providers([OPEN, CLOSED, FAR])
    yield s
    s.close()








def commit(store: Store, wizard: Wizard, cpr: str, task_id: str | None, planned: list[PlannedOp]):
    case = store.create_case(wizard.workaround_ids[0], cpr, task_id, {})
    return case, store.commit_case(case.id, planned, today=TODAY, author="test")




# -- 2.7.1 / 2.7.5 renumbering -------------------------------------------------------------------

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
    planned = w.plan(draft, ctx.states, ctx)
    link = texts.note_link(old.cpr, new.cpr, date(2026, 11, 20))
    assert strip_at(planned) == [
        (old.cpr, "group_switch", {"group": 8, "effective": "2026-11-25", "reason": texts.REASON_OLD_CEASED}),
        (old.cpr, "note_add", {"text": texts.note_old_doctor(new.cpr, CLOSED.practice_name, CLOSED.provider_number)}),
        (new.cpr, "group_switch", {"group": 1, "effective": "2026-11-25", "reason": texts.REASON_NEW_GROUP1}),
        (new.cpr, "doctor_choice", {"provider_number": CLOSED.provider_number,
                                    "practice_name": CLOSED.practice_name, "reason": "omnummerering",
                                    "effective": "2026-11-25", "forced": True, "force_rule": "renumbering",
                                    "fee": {"paid": False, "amount": 0, "reason": texts.FEE_FREE_RENUMBERING,
                                            "code": "renumbering"}}),
        (old.cpr, "doctor_choice_end", {"choice_id": old.doctors[0].id, "end": "2026-11-25"}),
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


# -- 038 call-up: conscript, state-posted, short stay ------------------------------------------

def _callup_person(store: Store, **changes) -> PersonState:
    number = a_cpr(date(2006, 4, 9), seed=31)
    st = replace(a_person(number), tasks=(a_task(number, "038", "t-038"),), **changes)
    put(store, st)
    return st


def test_callup_conscript_switches_group_1_to_5_and_closes(store: Store) -> None:
    st = _callup_person(store)
    w = WIZARDS["callup"]
    ctx = ctx_for(store, w, st.cpr, "t-038")
    draft = walk(w, ctx, {"effective": "20-11-2026"})
    assert draft["decision"] == "conscript"
    planned = w.plan(draft, ctx.states, ctx)
    assert strip_at(planned) == [
        (st.cpr, "group_switch", {"group": 5, "effective": "2026-11-20", "reason": texts.REASON_CALLUP}),
        (st.cpr, "task_close", {"task_id": "t-038", "reason": texts.CLOSE_CONSCRIPT}),
    ]
    commit(store, w, st.cpr, "t-038", planned)
    end = store.load_person(st.cpr)
    assert end.current_group(TODAY).group == 5 and end.task("t-038").status == TaskStatus.CLOSED


def test_callup_with_state_posted_note_suggests_2_5_1_no_group_switch(store: Store) -> None:
    note = Note("n1", "2026-11-18T10:00:00+01:00", "sb", "Kommende 038 vedrører en statsudsendt borger")
    st = _callup_person(store, notes=(note,))
    st = replace(st, person=replace(st.person, supplementary_address="Embassy Road 1, Nairobi"))
    put(store, st)
    w = WIZARDS["callup"]
    ctx = ctx_for(store, w, st.cpr, "t-038")
    evidence = w.steps[0].evidence({}, ctx)
    assert any(m.key == "wizard.ev.note" and "statsudsendt" in m.params["text"] for m in evidence)
    assert any(m.key == "wizard.ev.supplementary" for m in evidence)
    draft = walk(w, ctx, {})
    assert draft["decision"] == "state_posted"
    planned = w.plan(draft, ctx.states, ctx)
    assert [p.kind for p in planned] == ["note_add", "task_close"]
    assert planned[1].payload["reason"] == texts.CLOSE_STATE_POSTED
    commit(store, w, st.cpr, "t-038", planned)
    end = store.load_person(st.cpr)
    assert end.groups == st.groups and len(end.notes) == 2


def test_callup_short_stay_closes_only_and_the_caseworker_may_override_the_suggestion(store: Store) -> None:
    st = _callup_person(store)
    st = replace(st, person=replace(st.person, supplementary_address="c/o Hotel, Málaga"))
    put(store, st)
    w = WIZARDS["callup"]
    ctx = ctx_for(store, w, st.cpr, "t-038")
    assert walk(w, ctx, {})["decision"] == "short_stay"
    planned = w.plan(walk(w, ctx, {}), ctx.states, ctx)
    assert strip_at(planned) == [(st.cpr, "task_close", {"task_id": "t-038", "reason": texts.CLOSE_SHORT_STAY})]
    # the caseworker decides: conscript despite the supplementary address
    overridden = w.plan(walk(w, ctx, {"decision": "conscript"}), ctx.states, ctx)
    assert [p.kind for p in overridden] == ["group_switch", "task_close"]


def test_callup_refuses_conscript_already_in_group_5(store: Store) -> None:
    st = _callup_person(store)
    put(store, replace(st, groups=(GroupRegistration("g5", 5, date(2026, 1, 2)),)))
    w = WIZARDS["callup"]
    ctx = ctx_for(store, w, st.cpr, "t-038")
    step = w.steps[w.step_index("conscript")]
    assert [e.key for e in w.validate_step(step, {"decision": "conscript", "effective": "2026-11-25"}, ctx)] == [
        "wizard.callup.error.already5"]


# -- 039 discharge ------------------------------------------------------------------------------

def _conscript(store: Store, moved: bool) -> PersonState:
    number = a_cpr(date(2005, 8, 17), seed=41)
    base = a_person(number)
    groups = (replace(base.groups[0], end=date(2026, 2, 2)), GroupRegistration("g5", 5, date(2026, 2, 2)))
    addresses = (AddressEntry(date(2010, 1, 2), AARHUS),)
    person = base.person
    if moved:
        odense = Address("Vestergade 1", "5000", "Odense C", 461, 55.396, 10.388)
        addresses += (AddressEntry(date(2026, 6, 1), odense),)
        person = replace(person, address=odense)
    st = replace(base, person=person, groups=groups, addresses=addresses,
                 tasks=(a_task(number, "039", "t-039"),))
    put(store, st)
    return st


def test_discharge_after_a_move_warns_and_offers_a_free_doctor_choice(store: Store) -> None:
    st = _conscript(store, moved=True)
    w = WIZARDS["discharge"]
    ctx = ctx_for(store, w, st.cpr, "t-039")
    ev = w.steps[0].evidence({"effective": "2026-11-25"}, ctx)
    assert any(m.key == "wizard.discharge.ev.moved" for m in ev)
    draft = walk(w, ctx, {"effective": "2026-11-25", "new_doctor": FAR.provider_number, "new_card": "yes"})
    planned = w.plan(draft, ctx.states, ctx)
    assert strip_at(planned) == [
        (st.cpr, "group_switch", {"group": 1, "effective": "2026-11-25", "reason": texts.REASON_DISCHARGE}),
        (st.cpr, "doctor_choice", {"provider_number": FAR.provider_number, "practice_name": FAR.practice_name,
                                   "reason": "flytning", "effective": "2026-11-25", "forced": False,
                                   "fee": {"paid": False, "amount": 0, "reason": texts.FEE_FREE_MOVE, "code": "moving"}}),
        (st.cpr, "card_order", {"ordered_on": "2026-11-25",
                                "fee": {"paid": False, "amount": 0, "reason": texts.FEE_FREE_DISCHARGE,
                                        "code": "leaving_group_4_5"},
                                "reason": texts.CARD_AFTER_DISCHARGE}),
        (st.cpr, "note_add", {"text": texts.note_discharge(
            date(2026, 11, 25), f"nyt lægevalg: {FAR.practice_name} ({FAR.provider_number})", True)}),
        (st.cpr, "task_close", {"task_id": "t-039", "reason": texts.CLOSE_DISCHARGE}),
    ]
    commit(store, w, st.cpr, "t-039", planned)
    end = store.load_person(st.cpr)
    assert end.current_group(TODAY).group == 1
    assert end.current_doctor(TODAY).provider_number == FAR.provider_number
    assert len(end.cards) == 1 and end.task("t-039").status == TaskStatus.CLOSED


def test_discharge_without_move_keeps_doctor_and_has_no_warning(store: Store) -> None:
    st = _conscript(store, moved=False)
    w = WIZARDS["discharge"]
    ctx = ctx_for(store, w, st.cpr, "t-039")
    assert not any(m.key == "wizard.discharge.ev.moved" for m in w.steps[0].evidence({}, ctx))
    planned = w.plan(walk(w, ctx, {}), ctx.states, ctx)
    assert [p.kind for p in planned] == ["group_switch", "note_add", "task_close"]
    assert f"lægevalget fortsætter: {st.doctors[0].practice_name}" in planned[1].payload["text"]


def test_discharge_refuses_a_person_not_in_group_5_and_a_closed_doctor(store: Store) -> None:
    st = _conscript(store, moved=True)
    w = WIZARDS["discharge"]
    ctx = ctx_for(store, w, st.cpr, "t-039")
    assert [e.key for e in w.validate_step(w.steps[0], {"effective": "2026-01-05"}, ctx)] == [
        "wizard.discharge.error.not5"]
    assert [e.key for e in w.validate_step(w.steps[1], {"new_doctor": CLOSED.provider_number}, ctx)] == [
        "rule.provider_closed"]


# -- 2.5.1 note before the event -------------------------------------------------------------------

def test_state_posted_note_is_found_by_the_later_callup(store: Store) -> None:
    st = _callup_person(store)
    w = WIZARDS["state_posted_note"]
    ctx = ctx_for(store, w, st.cpr, None)
    assert [e.key for e in w.validate_step(w.steps[0], {"note": "husk det"}, ctx)] == [
        "wizard.state_posted_note.error.mark"]
    planned = w.plan(walk(w, ctx, {}), ctx.states, ctx)
    assert strip_at(planned) == [(st.cpr, "note_add", {"text": texts.note_state_posted_before()})]
    commit(store, w, st.cpr, None, planned)
    callup = WIZARDS["callup"]
    assert walk(callup, ctx_for(store, callup, st.cpr, "t-038"), {})["decision"] == "state_posted"


# -- 2.6.5 forced doctor choice, unknown in LUNA --------------------------------------------------

def test_forced_choice_luna_goes_via_group_2_and_leaves_an_open_followup(store: Store) -> None:
    number = a_cpr(date(1962, 9, 23), seed=51)
    st = a_person(number, luna_known=False, tasks=(a_task(number, "L01", "t-l01"),))
    put(store, st)
    w = WIZARDS["forced_choice_luna"]
    ctx = ctx_for(store, w, number, "t-l01")
    draft = walk(w, ctx, {})
    assert draft["provider"] == CLOSED.provider_number  # the nearest closed practice is suggested
    planned = w.plan(draft, ctx.states, ctx)
    follow = "Kontakt yder Lægehuset Søndergade (054321) og bed dem se bort fra dispensationsansøgningen (2.6.5)."
    assert strip_at(planned) == [
        (number, "group_switch", {"group": 2, "effective": "2026-11-25", "reason": texts.REASON_G2}),
        (number, "group_switch", {"group": 1, "effective": "2026-11-25", "reason": texts.REASON_G1}),
        (number, "doctor_choice", {"provider_number": CLOSED.provider_number, "practice_name": CLOSED.practice_name,
                                   "reason": "selvvalgt", "effective": "2026-11-25", "forced": True,
                                   "force_rule": "group2_to_1", "status": "approved",
                                   "fee": {"paid": True, "amount": FEE, "reason": texts.FEE_PAID_OWN, "code": "own_choice"}}),
        (number, "followup_add", {"text": follow}),
        (number, "note_add", {"text": texts.note_forced(CLOSED.practice_name, CLOSED.provider_number)}),
        (number, "task_close", {"task_id": "t-l01", "reason": texts.CLOSE_FORCED}),
    ]
    commit(store, w, number, "t-l01", planned)
    end = store.load_person(number)
    assert end.current_group(TODAY).group == 1
    assert [g.group for g in sorted(end.groups, key=lambda g: (g.effective, g.end or date.max))][-2:] == [2, 1]
    doc = end.current_doctor(TODAY)
    assert (doc.provider_number, doc.forced, doc.force_rule, doc.status.value) == (
        CLOSED.provider_number, True, "group2_to_1", "approved")
    (fu,) = end.followups
    assert fu.text == follow and fu.done is None
    tick_followup(store, number, fu.id, TODAY, author="test")
    assert store.load_person(number).followups[0].done
    with pytest.raises(RuleViolation) as exc:
        tick_followup(store, number, fu.id, TODAY)
    assert [v.code for v in exc.value.violations] == ["rule.followup_done"]


def test_forced_choice_refuses_an_open_practice_and_a_free_choice_without_reason(store: Store) -> None:
    number = a_cpr(date(1962, 9, 23), seed=52)
    put(store, a_person(number, luna_known=False, tasks=(a_task(number, "L01", "t-l01"),)))
    w = WIZARDS["forced_choice_luna"]
    ctx = ctx_for(store, w, number, "t-l01")
    assert [e.key for e in w.validate_step(w.steps[0], {"provider": OPEN.provider_number}, ctx)] == [
        "wizard.forced.error.open"]
    assert [e.key for e in w.validate_step(w.steps[1], {"fee": "free", "fee_reason": " "}, ctx)] == [
        "wizard.forced.error.fee_reason"]
    planned = w.plan(walk(w, ctx, {"fee": "free", "fee_reason": "samboendes læge"}), ctx.states, ctx)
    assert next(p for p in planned if p.kind == "doctor_choice").payload["fee"] == {
        "paid": False, "amount": 0, "reason": "samboendes læge", "code": "own_choice", "waiver": "samboendes læge"}


def test_forced_choice_blocked_by_a_future_switch_attention_point_1(store: Store) -> None:
    number = a_cpr(date(1962, 9, 23), seed=53)
    st = a_person(number, luna_known=False)
    put(store, replace(st, groups=st.groups + (GroupRegistration("gf", 7, date(2027, 1, 5)),)))
    w = WIZARDS["forced_choice_luna"]
    ctx = ctx_for(store, w, number, None)
    assert [e.key for e in w.validate_step(w.steps[0], {"provider": CLOSED.provider_number}, ctx)] == [
        "rule.future_switch_blocks"]


# -- shared -----------------------------------------------------------------------------------------

def test_dates_are_accepted_in_iso_and_danish_order_and_nothing_else() -> None:
    assert parse_date("2026-11-25") == parse_date("25-11-2026") == parse_date("25.11.2026") == date(2026, 11, 25)
    for bad in ("2026-13-01", "31-02-2026", "25/11/26", "i morgen", ""):
        with pytest.raises(ValueError):
            parse_date(bad)


def test_dry_run_reports_the_rule_a_plan_breaks_like_the_store_commit(store: Store) -> None:
    number = a_cpr(date(1962, 9, 23), seed=54)
    put(store, a_person(number))
    state = store.load_person(number)
    bad = [PlannedOp(number, "doctor_choice", {"provider_number": CLOSED.provider_number, "reason": "selvvalgt",
                                               "effective": "2026-11-25",
                                               "fee": {"paid": True, "amount": FEE, "code": "own_choice"}})]
    _end, problems = dry_run(bad, {number: state}, store.rule_context(TODAY))
    assert [v.code for _p, vs in problems for v in vs] == ["rule.provider_closed"]
    case = store.create_case("2.6.5", number, None)
    with pytest.raises(RuleViolation):
        store.commit_case(case.id, bad, today=TODAY)


def test_the_design_card_wizards_are_registered_and_serve_their_sections() -> None:
    expected = {"renumbering": {"2.7.1", "2.7.5"}, "callup": {"2.4.1", "2.5.1", "2.7.6"},
                "discharge": {"2.4.1"}, "forced_choice_luna": {"2.6.5"}, "state_posted_note": {"2.5.1"}}
    for key, sections in expected.items():
        assert key in WIZARDS
        assert sections <= set(WIZARDS[key].workaround_ids), key
