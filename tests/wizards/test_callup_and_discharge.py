"""2.4.1 / 2.5.1 / 2.7.6 call-up (038) and discharge (039), and the 2.5.1 note written before
the event: the caseworker decides from the evidence, the plan follows the guide."""

from __future__ import annotations

from dataclasses import replace
from datetime import date


from sygesikring_tui.domain.model import (
    Address,
    AddressEntry,
    GroupRegistration,
    Note,
    PersonState,
    TaskStatus,
)
from sygesikring_tui.domain.wizards import WIZARDS, texts
from sygesikring_tui.store import Store
from tests.factories import AARHUS, CLOSED, FAR, a_cpr, a_person, a_task
from tests.wizard_kit import TODAY, commit, ctx_for, put, walk
from tests.wizard_kit import op_tuples as strip_at


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
