"""Scenario tests for the events family (2.2.1, 2.6.7, 2.6.8, 2.7.3, 2.7.8): the person the
guide describes, the wizard's steps with the caseworker's answers (each step validated), the
exact operations planned (fees and reasons included), then the end state after commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from tests.factories import AARHUS, CLOSED, FAR, OPEN, a_cpr, a_person, a_task
from tests.wizard_kit import op_tuples as ops_of
from tests.wizard_kit import put, walk

from sygesikring_tui.domain import forcing
from sygesikring_tui.domain.model import (
    Address,
    AddressEntry,
    ChoiceStatus,
    CprEvent,
    DoctorChoice,
    Fee,
    GroupRegistration,
    PersonState,
    Provider,
    Relation,
    RelationKind,
    Task,
    TaskStatus,
)
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.domain.wizards import greenland, texts
from sygesikring_tui.domain.wizards import WIZARDS, Wizard, WizardContext, dry_run
from sygesikring_tui.store import Store
from tests.wizard_kit import commit, ctx_for

TODAY = date(2026, 11, 25)
FEE = 225
# A second open practice near Aarhus (OPEN is the factories' person's own doctor).
OPEN2 = Provider("023456", "Lægerne Åboulevarden", True, 751, 56.158, 10.207, "Åboulevarden 5")
NUUK = Address("Aqqusinersuaq 4", "3900", "Nuuk", 955, 64.181, -51.694)


STORE_PROVIDERS = (OPEN, CLOSED, FAR, OPEN2)


def step_errors(wizard: Wizard, step_id: str, draft: dict[str, str], ctx: WizardContext) -> list[str]:
    return [e.key for e in wizard.validate_step(wizard.steps[wizard.step_index(step_id)], draft, ctx)]


def event_task(number: str, code: str, tid: str, data: dict, event_date: date, received: date,
               due: date | None = None) -> tuple[CprEvent, Task]:
    e = CprEvent("e-" + tid, code, event_date, received, data)
    return e, Task(tid, number, code, e.id, received, due or received)


def choice(prov: Provider, eff: date, *, cid: str, end: date | None = None) -> DoctorChoice:
    return DoctorChoice(cid, prov.provider_number, prov.practice_name, "selvvalgt", eff, end,
                        ChoiceStatus.ENDED if end else ChoiceStatus.APPROVED, fee=Fee(False, 0, "flytning"))


def free(reason: str, code: str) -> dict:
    return {"paid": False, "amount": 0, "reason": reason, "code": code}


# == 2.2.1 Denmark → Greenland ==================================================================

def _to_greenland(store: Store) -> PersonState:
    number = a_cpr(date(1971, 3, 9), seed=101)
    base = a_person(number)
    moved = date(2026, 11, 19)
    e, task = event_task(number, "013", "t-013", {"country": "GL", "country_name": "Grønland"}, moved,
                         date(2026, 11, 20))
    # the running doctor (OPEN), and a future choice (FAR from 10 Dec) that scheduled its end
    doctors = (choice(OPEN, date(2010, 1, 2), cid="d-now", end=date(2026, 12, 10)),
               choice(FAR, date(2026, 12, 10), cid="d-future"))
    groups = base.groups + (GroupRegistration("g-future", 2, date(2027, 1, 5), None, "Eget valg"),)
    st = replace(base, person=replace(base.person, address=NUUK, cpr_status="05"), doctors=doctors, groups=groups,
                 addresses=(AddressEntry(date(2010, 1, 2), AARHUS), AddressEntry(moved, NUUK)),
                 events=(e,), tasks=(task,))
    put(store, st)
    return st


def test_to_greenland_group_7_ends_the_doctor_and_removes_every_future_registration(store: Store) -> None:
    st = _to_greenland(store)
    w = WIZARDS["greenland"]
    ctx = ctx_for(store, w, st.cpr, "t-013")
    evidence = [m.key for m in w.steps[0].evidence({}, ctx)]
    assert "wizard.greenland.ev.suggestion" in evidence
    draft = walk(w, ctx, {})
    assert draft["direction"] == "to_greenland" and draft["moved"] == "2026-11-19"
    shown = w.steps[w.step_index("to_greenland")].evidence(draft, ctx)
    assert [(m.key, m.params.get("group")) for m in shown if m.key.startswith("wizard.greenland.ev.remove_")
            and m.key != "wizard.greenland.ev.remove_heading"] == [
        ("wizard.greenland.ev.remove_group", 2), ("wizard.greenland.ev.remove_choice", None)]
    assert [m.params["practice"] for m in shown if m.key == "wizard.greenland.ev.end_choice"] == [OPEN.practice_name]
    planned = w.plan(draft, ctx.states, ctx)
    note = texts.note_to_greenland(date(2026, 11, 19), [st.doctors[0]], 1, 1)
    assert "Lægerne Vestergade (012345)" in note and "1 sikringsgruppeskift, 1 lægevalg" in note
    assert ops_of(planned) == [
        (st.cpr, "remove_future", {"as_of": "2026-11-19"}),
        (st.cpr, "group_switch", {"group": 7, "effective": "2026-11-19", "reason": texts.GL_REASON_GROUP7}),
        (st.cpr, "doctor_choice_end", {"choice_id": "d-now", "end": "2026-11-19"}),
        (st.cpr, "note_add", {"text": note}),
        (st.cpr, "task_close", {"task_id": "t-013", "reason": texts.GL_CLOSE_TO}),
    ]
    commit(store, w, st.cpr, "t-013", planned)
    end = store.load_person(st.cpr)
    assert end.current_group(TODAY).group == 7
    assert end.future_groups(TODAY) == []
    assert [(x.id, x.end, x.status) for x in end.doctors] == [("d-now", date(2026, 11, 19), ChoiceStatus.ENDED)]
    assert end.current_doctor(TODAY) is None
    assert end.notes[-1].text == note
    assert end.task("t-013").status == TaskStatus.CLOSED


def test_to_greenland_refuses_a_future_move_date_and_a_person_already_in_group_7(store: Store) -> None:
    st = _to_greenland(store)
    w = WIZARDS["greenland"]
    ctx = ctx_for(store, w, st.cpr, "t-013")
    base = {"direction": "to_greenland"}
    assert step_errors(w, "to_greenland", {**base, "moved": "2026-11-26"}, ctx) == [
        "wizard.greenland.error.moved_future"]
    assert step_errors(w, "to_greenland", {**base, "moved": "31-11-2026"}, ctx) == ["date.invalid"]
    put(store, replace(st, groups=st.groups + (GroupRegistration("g7", 7, date(2026, 11, 1)),)))
    ctx = ctx_for(store, w, st.cpr, "t-013")
    assert step_errors(w, "to_greenland", {**base, "moved": "2026-11-19"}, ctx) == ["wizard.greenland.error.already7"]


def test_to_greenland_without_future_registrations_still_removes_as_of_the_move(store: Store) -> None:
    number = a_cpr(date(1980, 5, 7), seed=102)
    st = a_person(number)
    e, task = event_task(number, "013", "t-013", {"country": "GL"}, date(2026, 11, 23), TODAY)
    put(store, replace(st, events=(e,), tasks=(task,)))
    w = WIZARDS["greenland"]
    ctx = ctx_for(store, w, number, "t-013")
    draft = walk(w, ctx, {"note": "Borger ringede."})
    assert [m.key for m in w.steps[1].evidence(draft, ctx) if "remove" in m.key] == [
        "wizard.greenland.ev.remove_heading", "wizard.greenland.ev.remove_none"]
    planned = w.plan(draft, ctx.states, ctx)
    assert [p.kind for p in planned] == ["remove_future", "group_switch", "doctor_choice_end", "note_add",
                                         "task_close"]
    assert planned[3].payload["text"].endswith("(2.2.1). Borger ringede.")
    commit(store, w, number, "t-013", planned)
    assert store.load_person(number).current_group(TODAY).group == 7


# == 2.2.1 Greenland → Denmark =================================================================

def _from_greenland(store: Store, done: bool) -> PersonState:
    number = a_cpr(date(1988, 8, 14), seed=103)
    base = a_person(number, doctor=None)
    went, back = date(2022, 4, 2), date(2026, 11, 21)
    groups = (replace(base.groups[0], end=went), GroupRegistration("g7", 7, went, date(2026, 11, 22) if done else None))
    if done:
        groups += (GroupRegistration("g1", 1, date(2026, 11, 22), None, "Tilflytning fra Grønland"),)
    doctors = (choice(OPEN, date(2026, 11, 22), cid="d-auto"),) if done else ()
    e, task = event_task(number, "034", "t-034", {"from": "GL"}, back, date(2026, 11, 22))
    st = replace(base, groups=groups, doctors=doctors, events=(e,), tasks=(task,),
                 addresses=(AddressEntry(date(2010, 1, 2), AARHUS), AddressEntry(went, NUUK),
                            AddressEntry(back, AARHUS)))
    put(store, st)
    return st


@pytest.mark.parametrize("done", [True, False])
def test_from_greenland_records_only_a_follow_up_and_closes_the_task(store: Store, done: bool) -> None:
    st = _from_greenland(store, done)
    w = WIZARDS["greenland"]
    ctx = ctx_for(store, w, st.cpr, "t-034")
    draft = walk(w, ctx, {})
    assert draft["direction"] == "from_greenland" and draft["due"] == "2026-11-25"
    shown = [m.key for m in w.steps[w.step_index("from_greenland")].evidence(draft, ctx)]
    assert ("wizard.greenland.ev.from_done" in shown) is done
    assert ("wizard.greenland.ev.from_pending" in shown) is not done
    planned = w.plan(draft, ctx.states, ctx)
    assert ops_of(planned) == [
        (st.cpr, "followup_add", {"text": texts.followup_from_greenland(date(2026, 11, 21)), "due": "2026-11-25"}),
        (st.cpr, "task_close", {"task_id": "t-034", "reason": texts.GL_CLOSE_FROM}),
    ]
    commit(store, w, st.cpr, "t-034", planned)
    end = store.load_person(st.cpr)
    assert end.groups == st.groups and end.doctors == st.doctors
    (fu,) = end.followups
    assert (fu.due, fu.done) == (TODAY, None) and "sikringsgruppe 1" in fu.text


def test_from_greenland_refuses_a_follow_up_date_in_the_past(store: Store) -> None:
    st = _from_greenland(store, False)
    w = WIZARDS["greenland"]
    ctx = ctx_for(store, w, st.cpr, "t-034")
    assert step_errors(w, "from_greenland", {"direction": "from_greenland", "due": "2026-11-24"}, ctx) == [
        "wizard.greenland.error.due_past"]


def test_greenland_direction_follows_the_evidence_not_only_the_event_code(store: Store) -> None:
    st = _from_greenland(store, False)
    put(store, replace(st, tasks=(replace(st.tasks[0], event_code="013"),)))
    w = WIZARDS["greenland"]
    # a 013 task on a person whose evidence only says "from Greenland": the evidence wins
    assert greenland.suggest_direction(ctx_for(store, w, st.cpr, "t-034")) == "from_greenland"


# == 2.6.7 practice transfer ====================================================================

def _transfer(store: Store, data: dict | None = None) -> PersonState:
    number = a_cpr(date(1959, 10, 3), seed=104)
    st = a_person(number)
    data = {"from_provider": OPEN.provider_number, "to_provider": FAR.provider_number,
            "transfer_date": "2026-12-01"} if data is None else data
    e, task = event_task(number, "PLO1", "t-plo1", data, date(2026, 11, 20), date(2026, 11, 20))
    st = replace(st, events=(e,), tasks=(task,))
    put(store, st)
    return st


def test_practice_transfer_self_chosen_on_the_transfer_date_free_with_a_note_why(store: Store) -> None:
    st = _transfer(store)
    w = WIZARDS["practice_transfer"]
    ctx = ctx_for(store, w, st.cpr, "t-plo1")
    draft = walk(w, ctx, {})
    assert (draft["provider"], draft["effective"]) == (OPEN2.provider_number, "2026-12-01")
    assert [w.steps[i].id for i in w.active_steps(draft, ctx)] == ["doctor", "note"]
    planned = w.plan(draft, ctx.states, ctx)
    note = texts.note_transfer(date(2026, 12, 1), OPEN2.practice_name, OPEN2.provider_number,
                            f"{OPEN.practice_name} ({OPEN.provider_number})")
    assert "ikke opkrævet gebyr" in note
    assert ops_of(planned) == [
        (st.cpr, "doctor_choice", {"provider_number": OPEN2.provider_number, "practice_name": OPEN2.practice_name,
                                   "reason": "selvvalgt", "effective": "2026-12-01", "forced": False,
                                   "status": "approved", "fee": free(texts.TRANSFER_FEE_REASON, "practice_transfer")}),
        (st.cpr, "note_add", {"text": note}),
        (st.cpr, "task_close", {"task_id": "t-plo1", "reason": texts.TRANSFER_CLOSE}),
    ]
    commit(store, w, st.cpr, "t-plo1", planned)
    end = store.load_person(st.cpr)
    doc = end.current_doctor(date(2026, 12, 1))
    assert (doc.provider_number, doc.reason, doc.effective, doc.fee) == (
        OPEN2.provider_number, "selvvalgt", date(2026, 12, 1), Fee(False, 0, texts.TRANSFER_FEE_REASON, "practice_transfer"))
    assert end.task("t-plo1").status == TaskStatus.CLOSED and end.notes[-1].text == note


def test_practice_transfer_date_must_be_the_transfer_date_and_is_typed_when_the_event_has_none(store: Store) -> None:
    st = _transfer(store)
    w = WIZARDS["practice_transfer"]
    ctx = ctx_for(store, w, st.cpr, "t-plo1")
    base = {"provider": OPEN2.provider_number}
    assert step_errors(w, "doctor", {**base, "effective": "2026-12-02"}, ctx) == [
        "wizard.practice_transfer.error.not_transfer_date"]
    assert step_errors(w, "doctor", {**base, "effective": ""}, ctx) == ["wizard.error.required"]
    assert step_errors(w, "doctor", {**base, "effective": "2026-12-01"}, ctx) == []
    st2 = _transfer(store, data={})
    ctx2 = ctx_for(store, w, st2.cpr, "t-plo1")
    assert w.fill_defaults(w.steps[0], {}, ctx2)["effective"] == ""
    planned = w.plan(walk(w, ctx2, {"effective": "15-12-2026"}), ctx2.states, ctx2)
    assert planned[0].payload["effective"] == "2026-12-15"


def test_practice_transfer_closed_practice_needs_a_rule_and_its_basis(store: Store) -> None:
    st = _transfer(store)
    w = WIZARDS["practice_transfer"]
    ctx = ctx_for(store, w, st.cpr, "t-plo1")
    draft = {"provider": CLOSED.provider_number, "effective": "2026-12-01"}
    assert [w.steps[i].id for i in w.active_steps(draft, ctx)] == ["doctor", "force", "note"]
    opts = [o.value for o in w.steps[1].fields[0].options(draft, ctx)]
    assert opts == ["doctor_accepted"]
    assert step_errors(w, "force", {**draft, "force_rule": "doctor_accepted", "force_basis": " "}, ctx) == [
        "wizard.events.error.force_basis"]
    assert step_errors(w, "force", {**draft, "force_rule": "cohabitant", "force_basis": "x"}, ctx) == [
        "wizard.error.choose"]
    full = walk(w, ctx, {**draft, "force_basis": "Lægen accepterede telefonisk 24-11-2026"})
    choice_op = w.plan(full, ctx.states, ctx)[0]
    assert (choice_op.payload["forced"], choice_op.payload["force_rule"]) == (True, "doctor_accepted")
    note = w.plan(full, ctx.states, ctx)[1].payload["text"]
    assert note.endswith("»lægen har accepteret patienten«: Lægen accepterede telefonisk 24-11-2026")


def test_practice_transfer_blocked_by_a_future_switch_attention_point_1(store: Store) -> None:
    st = _transfer(store)
    put(store, replace(st, groups=st.groups + (GroupRegistration("gf", 4, date(2027, 2, 1)),)))
    w = WIZARDS["practice_transfer"]
    ctx = ctx_for(store, w, st.cpr, "t-plo1")
    assert step_errors(w, "doctor", {"provider": OPEN2.provider_number, "effective": "2026-12-01"}, ctx) == [
        "doctors.error.ap1"]
    assert step_errors(w, "doctor", {"provider": CLOSED.provider_number, "effective": "2026-12-01"}, ctx) == [
        "doctors.error.ap1"]


def test_practice_transfer_refuses_the_doctor_the_person_already_has(store: Store) -> None:
    st = _transfer(store)
    w = WIZARDS["practice_transfer"]
    ctx = ctx_for(store, w, st.cpr, "t-plo1")
    assert step_errors(w, "doctor", {"provider": OPEN.provider_number, "effective": "2026-12-01"}, ctx) == [
        "doctors.error.same"]


# == 2.6.8 free choice for a child not on the residence parent's doctor ========================

def _family(store: Store, *, born: date = date(2018, 5, 6), child_doctor: Provider = FAR,
            parent_doctor: Provider = OPEN, residence: bool = True, code: str = "PLO2",
            child_address: Address = AARHUS) -> tuple[PersonState, PersonState]:
    parent_cpr = a_cpr(date(1984, 2, 17), male=False, seed=105)
    child_cpr = a_cpr(born, seed=106)
    parent = replace(a_person(parent_cpr, doctor=parent_doctor),
                     relations=(Relation(RelationKind.CHILD, child_cpr, "Lille Jensen", born),))
    parent = replace(parent, person=replace(parent.person, name="Hanne Jensen"))
    rels = [Relation(RelationKind.PARENT, parent_cpr, "Hanne Jensen", born)]
    if residence:
        rels.append(Relation(RelationKind.RESIDENCE_PARENT, parent_cpr, "Hanne Jensen", born))
        parent = replace(parent, relations=parent.relations + (
            Relation(RelationKind.RESIDENCE_CHILD, child_cpr, "Lille Jensen", born),))
    data = {"provider_number": parent_doctor.provider_number, "reason": "Praksis lukker"} if code == "PLO2" else {
        "municipality_code": 751, "to_parent": parent_cpr}
    e, task = event_task(child_cpr, code, "t-child", data, date(2026, 11, 23), date(2026, 11, 24))
    child = a_person(child_cpr, doctor=child_doctor)
    child = replace(child, person=replace(child.person, name="Lille Jensen", address=child_address),
                    relations=tuple(rels), events=(e,), tasks=(task,),
                    addresses=(AddressEntry(date(2019, 1, 2), FAR_ADDRESS),
                               AddressEntry(date(2026, 11, 23), child_address)))
    put(store, parent, child)
    return parent, child


FAR_ADDRESS = Address("Havnevej 9", "9990", "Skagen", 813, 57.72, 10.58)


def test_child_free_choice_on_the_residence_parents_open_doctor_free_with_note(store: Store) -> None:
    parent, child = _family(store)
    w = WIZARDS["child_free_choice"]
    ctx = ctx_for(store, w, child.cpr, "t-child")
    assert set(ctx.states) == {child.cpr, parent.cpr}
    draft = walk(w, ctx, {})
    assert (draft["parent"], draft["provider"], draft["effective"]) == (parent.cpr, OPEN.provider_number,
                                                                      "2026-11-25")
    planned = w.plan(draft, ctx.states, ctx)
    note = texts.note_child_free("Hanne Jensen", parent.cpr, OPEN.practice_name, OPEN.provider_number, TODAY)
    assert ops_of(planned) == [
        (child.cpr, "doctor_choice", {"provider_number": OPEN.provider_number, "practice_name": OPEN.practice_name,
                                      "reason": texts.CHILD_FREE_REASON, "effective": "2026-11-25", "forced": False,
                                      "status": "approved", "fee": free(texts.CHILD_FREE_FEE_REASON, "practice_closes")}),
        (child.cpr, "note_add", {"text": note}),
        (child.cpr, "task_close", {"task_id": "t-child", "reason": texts.CHILD_FREE_CLOSE}),
    ]
    commit(store, w, child.cpr, "t-child", planned)
    end = store.load_person(child.cpr)
    doc = end.current_doctor(TODAY)
    assert (doc.provider_number, doc.fee.paid) == (OPEN.provider_number, False)
    assert end.task("t-child").closed_reason == texts.CHILD_FREE_CLOSE
    assert store.load_person(parent.cpr).doctors == parent.doctors


def test_child_free_choice_refuses_a_child_of_15_and_a_child_without_residence_parent(store: Store) -> None:
    w = WIZARDS["child_free_choice"]
    _p, older = _family(store, born=date(2011, 3, 4))
    ctx = ctx_for(store, w, older.cpr, "t-child")
    assert step_errors(w, "verify", w.fill_defaults(w.steps[0], {}, ctx), ctx) == ["wizard.child_free.error.age"]
    _p, alone = _family(store, residence=False)
    ctx = ctx_for(store, w, alone.cpr, "t-child")
    assert step_errors(w, "verify", w.fill_defaults(w.steps[0], {}, ctx), ctx) == [
        "wizard.child_free.error.no_residence_parent"]


def test_child_free_choice_of_the_parents_closed_doctor_is_flagged_and_needs_acceptance(store: Store) -> None:
    parent, child = _family(store, parent_doctor=CLOSED)
    w = WIZARDS["child_free_choice"]
    ctx = ctx_for(store, w, child.cpr, "t-child")
    draft = walk(w, ctx, {"provider": CLOSED.provider_number, "force_basis": "Accept fra lægen 24-11"})
    assert draft["force_rule"] == "doctor_accepted"
    force_ev = w.steps[w.step_index("force")].evidence(draft, ctx)
    assert any(m.key == "attention.ap3" and m.params["parent"] == "Hanne Jensen" for m in force_ev)
    op = w.plan(draft, ctx.states, ctx)[0]
    assert (op.payload["forced"], op.payload["force_rule"]) == (True, "doctor_accepted")
    # an open doctor: nothing flagged
    open_ev = w.steps[w.step_index("force")].evidence({**draft, "provider": OPEN2.provider_number}, ctx)
    assert not any(m.key == "attention.ap3" for m in open_ev)


# == 2.7.3 rediscovery ===========================================================================

def _rediscovered(store: Store, *, missing: bool = True, groups=None) -> PersonState:
    number = a_cpr(date(1966, 7, 21), seed=107)
    base = a_person(number, doctor=None)
    doctors = (choice(CLOSED, date(2015, 3, 3), cid="d-prev", end=date(2025, 6, 1)),)
    if missing:
        doctors += (DoctorChoice("d-missing", "", "", "Manglende lægevalg", date(2026, 11, 20), None,
                                 ChoiceStatus.MISSING),)
    e, task = event_task(number, "011", "t-011", {}, date(2026, 11, 18), date(2026, 11, 19))
    st = replace(base, doctors=doctors, events=(e,), tasks=(task,), groups=groups or base.groups)
    put(store, st)
    return st


def test_rediscovery_ends_the_missing_choice_chooses_the_nearest_open_doctor_and_closes(store: Store) -> None:
    st = _rediscovered(store)
    w = WIZARDS["rediscovery"]
    ctx = ctx_for(store, w, st.cpr, "t-011")
    shown = [m.key for m in w.steps[0].evidence({}, ctx)]
    assert "wizard.rediscovery.ev.due_today" in shown and "wizard.rediscovery.ev.missing" in shown
    draft = walk(w, ctx, {})
    assert draft["provider"] == OPEN2.provider_number  # the nearest open, not the closed previous doctor
    planned = w.plan(draft, ctx.states, ctx)
    assert ops_of(planned) == [
        (st.cpr, "doctor_choice_end", {"choice_id": "d-missing", "end": "2026-11-25"}),
        (st.cpr, "doctor_choice", {"provider_number": OPEN2.provider_number, "practice_name": OPEN2.practice_name,
                                   "reason": texts.REDISCOVERY_REASON, "effective": "2026-11-25", "forced": False,
                                   "status": "approved", "fee": free(texts.REDISCOVERY_FEE_REASON, "first_choice")}),
        (st.cpr, "task_close", {"task_id": "t-011", "reason": texts.REDISCOVERY_CLOSE}),
    ]
    commit(store, w, st.cpr, "t-011", planned)
    end = store.load_person(st.cpr)
    assert end.current_doctor(TODAY).provider_number == OPEN2.provider_number
    miss = next(x for x in end.doctors if x.id == "d-missing")
    assert (miss.end, miss.state(TODAY)) == (TODAY, "previous")
    assert end.task("t-011").status == TaskStatus.CLOSED


def test_rediscovery_without_missing_choice_plans_no_end(store: Store) -> None:
    st = _rediscovered(store, missing=False)
    w = WIZARDS["rediscovery"]
    ctx = ctx_for(store, w, st.cpr, "t-011")
    assert [p.kind for p in w.plan(walk(w, ctx, {}), ctx.states, ctx)] == ["doctor_choice", "task_close"]


def test_rediscovery_previous_closed_doctor_only_with_acceptance_not_return_rule(store: Store) -> None:
    st = _rediscovered(store)
    w = WIZARDS["rediscovery"]
    ctx = ctx_for(store, w, st.cpr, "t-011")
    draft = {"provider": CLOSED.provider_number}
    assert [o.value for o in w.steps[1].fields[0].options(draft, ctx)] == ["doctor_accepted"]
    full = walk(w, ctx, {**draft, "force_basis": "Lægen har sagt ja"})
    planned = w.plan(full, ctx.states, ctx)
    assert [p.kind for p in planned] == ["doctor_choice_end", "doctor_choice", "note_add", "task_close"]
    assert planned[1].payload["force_rule"] == "doctor_accepted"
    assert "Lægen har sagt ja" in planned[2].payload["text"]
    _end, problems = dry_run(planned, ctx.states, ctx.rule_context())
    assert problems == []


def test_rediscovery_offers_return_to_last_gp_when_the_groups_show_a_return_from_group_2(store: Store) -> None:
    groups = (GroupRegistration("g1a", 1, date(2010, 1, 2), date(2025, 6, 1)),
              GroupRegistration("g2", 2, date(2025, 6, 1), date(2026, 11, 19)),
              GroupRegistration("g1b", 1, date(2026, 11, 19)))
    st = _rediscovered(store, groups=groups)
    w = WIZARDS["rediscovery"]
    ctx = ctx_for(store, w, st.cpr, "t-011")
    assert forcing.last_group1_gp(st, TODAY) == CLOSED.provider_number
    assert [o.value for o in w.steps[1].fields[0].options({"provider": CLOSED.provider_number}, ctx)] == [
        "return_to_last_gp", "doctor_accepted"]
    # another closed practice is not the last GP: only acceptance
    other = Provider("077777", "Lukket Klinik", False, 751, 56.16, 10.21)
    with store.transaction():
        store.upsert_providers([other])
    ctx = ctx_for(store, w, st.cpr, "t-011")
    assert [o.value for o in w.steps[1].fields[0].options({"provider": other.provider_number}, ctx)] == [
        "doctor_accepted"]


# == 2.7.8 parents take a child home =============================================================

def test_child_home_doctor_change_for_the_child_is_free_moving_with_note(store: Store) -> None:
    parent, child = _family(store, born=date(2016, 9, 12), code="036")
    w = WIZARDS["child_home"]
    ctx = ctx_for(store, w, child.cpr, "t-child")
    draft = walk(w, ctx, {})
    assert (draft["parent"], draft["provider"]) == (parent.cpr, OPEN.provider_number)
    planned = w.plan(draft, ctx.states, ctx)
    note = texts.note_child_home("Hanne Jensen", parent.cpr, OPEN.practice_name, OPEN.provider_number, TODAY)
    assert ops_of(planned) == [
        (child.cpr, "doctor_choice", {"provider_number": OPEN.provider_number, "practice_name": OPEN.practice_name,
                                      "reason": "flytning", "effective": "2026-11-25", "forced": False,
                                      "status": "approved", "fee": free(texts.CHILD_HOME_FEE_REASON, "moving")}),
        (child.cpr, "note_add", {"text": note}),
        (child.cpr, "task_close", {"task_id": "t-child", "reason": texts.CHILD_HOME_CLOSE}),
    ]
    commit(store, w, child.cpr, "t-child", planned)
    end = store.load_person(child.cpr)
    assert end.current_doctor(TODAY).provider_number == OPEN.provider_number
    assert end.current_doctor(TODAY).fee == Fee(False, 0, texts.CHILD_HOME_FEE_REASON, "moving")


def test_child_home_from_the_person_screen_plans_no_task_close(store: Store) -> None:
    parent, child = _family(store, born=date(2016, 9, 12), code="036")
    w = WIZARDS["child_home"]
    ctx = ctx_for(store, w, child.cpr, None)
    planned = w.plan(walk(w, ctx, {"provider": OPEN2.provider_number}), ctx.states, ctx)
    assert [p.kind for p in planned] == ["doctor_choice", "note_add"]
    assert planned[0].payload["provider_number"] == OPEN2.provider_number


def test_child_home_refuses_a_child_not_at_the_parents_address(store: Store) -> None:
    parent, child = _family(store, born=date(2016, 9, 12), code="036", child_address=FAR_ADDRESS)
    w = WIZARDS["child_home"]
    ctx = ctx_for(store, w, child.cpr, None)
    assert step_errors(w, "verify", {"parent": parent.cpr}, ctx) == ["wizard.child_home.error.not_same_address"]
    assert step_errors(w, "verify", {"parent": a_cpr(date(1970, 1, 5), seed=9)}, ctx) == ["wizard.error.choose"]


def test_child_home_closed_practice_allowed_when_no_two_open_within_reach(store: Store) -> None:
    parent, child = _family(store, born=date(2016, 9, 12), code="036", child_address=FAR_ADDRESS,
                            parent_doctor=CLOSED)
    # parent and child both at Skagen: only FAR is open within 15 km
    put(store, replace(store.load_person(parent.cpr), person=replace(parent.person, address=FAR_ADDRESS)))
    w = WIZARDS["child_home"]
    ctx = ctx_for(store, w, child.cpr, None)
    assert forcing.open_within_reach(ctx.state, ctx.providers.values()) == 1
    draft = {"parent": parent.cpr, "provider": CLOSED.provider_number, "effective": "2026-11-25"}
    assert [o.value for o in w.steps[2].fields[0].options(draft, ctx)] == ["no_open_within_reach", "doctor_accepted"]
    # in Aarhus two open practices are within reach: only acceptance
    _p2, near = _family(store, born=date(2016, 9, 12), code="036")
    ctx2 = ctx_for(store, w, near.cpr, None)
    assert [o.value for o in w.steps[2].fields[0].options(draft, ctx2)] == ["doctor_accepted"]


def test_review_describes_ending_a_choice_and_removing_future_registrations_in_words(store: Store) -> None:
    from sygesikring_tui.domain.wizards.common import describe
    from sygesikring_tui.i18n import t

    st = _to_greenland(store)
    w = WIZARDS["greenland"]
    ctx = ctx_for(store, w, st.cpr, "t-013")
    planned = w.plan(walk(w, ctx, {}), ctx.states, ctx)
    msgs = {p.kind: describe(p, ctx.states) for p in planned}
    assert msgs["remove_future"].key == "wizard.review.remove_future"
    assert (msgs["remove_future"].params["groups"], msgs["remove_future"].params["doctors"]) == (1, 1)
    end = msgs["doctor_choice_end"]
    assert (end.key, end.params["what"], end.params["date"]) == (
        "wizard.review.doctor_choice_end", f"{OPEN.practice_name} ({OPEN.provider_number})", "19-11-2026")
    assert t(end.params["what_key"], what=end.params["what"]) == f"{OPEN.practice_name} ({OPEN.provider_number})"
    missing = describe(PlannedOp(st.cpr, "doctor_choice_end", {"choice_id": "nope", "end": "2026-11-25"}),
                       ctx.states)
    assert missing.params["what_key"] == "wizard.review.choice_missing"


def test_condition_moved_to_residence_parent_tells_a_child_taken_home_from_a_host_move(store: Store) -> None:
    from sygesikring_tui.domain.workarounds import condition_value

    def cond(st: PersonState) -> bool:
        return condition_value("moved_to_residence_parent", st, TODAY, lambda _n: None)

    _parent, child = _family(store, born=date(2016, 9, 12), code="036")
    # the residence parent relation began the day the child came to the address
    moved = replace(child, relations=tuple(replace(r, since=date(2026, 11, 23)) if r.kind == "residence_parent"
                                           else r for r in child.relations))
    assert cond(moved)
    assert not cond(child)  # the relation is from birth: no move to the parent now
    cohab = replace(moved, relations=tuple(replace(r, kind=RelationKind.COHABITANT) for r in moved.relations))
    assert not cond(cohab)


def test_greenland_follow_up_is_due_the_day_after_the_event_and_the_review_names_the_date(store: Store) -> None:
    from sygesikring_tui.domain.wizards.common import describe
    from sygesikring_tui.domain.wizards.greenland import _from_due_default

    number = a_cpr(seed=91)
    put(store, replace(a_person(number), tasks=(a_task(number, "014", "t-gl", received=TODAY),)))
    ctx = ctx_for(store, WIZARDS["greenland"], number, "t-gl")
    assert _from_due_default({}, ctx) == (TODAY + timedelta(days=1)).isoformat()
    late = a_cpr(seed=92)
    put(store, replace(a_person(late), tasks=(a_task(late, "014", "t-late", received=TODAY - timedelta(days=9)),)))
    ctx = ctx_for(store, WIZARDS["greenland"], late, "t-late")
    assert _from_due_default({}, ctx) == TODAY.isoformat()  # that day has passed: today, never the past
    op = PlannedOp(number, "followup_add", {"text": "Tjek lægevalg", "due": "2026-11-26"})
    msg = describe(op, ctx.states)
    assert msg.key == "wizard.review.followup_add_due" and msg.params["due"] == "2026-11-26"
