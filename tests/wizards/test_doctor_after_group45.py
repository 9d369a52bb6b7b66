"""2.4.1 / 3.1.7: leaving group 4 or 5 for group 1 never silently leaves the person without a
doctor: the wizard warns, puts back the last group 1 GP (forced if closed, free) or offers a
new doctor; the discharge writes the guide's closing note."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sygesikring_tui.domain.model import GroupRegistration, PersonState
from sygesikring_tui.domain.wizards import WIZARDS
from sygesikring_tui.domain.wizards import doctor_after_group45 as after45
from sygesikring_tui.store import Store
from tests.factories import CLOSED, OPEN, PROVIDERS, a_cpr, a_person, a_task, with_doctor
from tests.wizard_kit import ctx_for, put, walk


TODAY = date(2026, 11, 25)


STORE_PROVIDERS = PROVIDERS


def _served(store: Store, code: str, group: int) -> PersonState:
    """In group ``group`` since February; the doctor choice (a now closed practice) ended then."""
    number = a_cpr(date(2001, 4, 6), seed=81 + group)
    st = a_person(number, doctor=None)
    st = with_doctor(st, CLOSED, since=date(2015, 3, 3), end=date(2026, 2, 2))
    st = replace(st, groups=(GroupRegistration("g1", 1, date(2010, 1, 2), date(2026, 2, 2)),
                             GroupRegistration("g45", group, date(2026, 2, 2))),
                 tasks=(a_task(number, code, "t-" + code),))
    put(store, st)
    return st


def test_discharge_without_a_running_doctor_warns_and_puts_back_the_last_gp_forced_and_free(store: Store) -> None:
    st = _served(store, "039", 5)
    w = WIZARDS["discharge"]
    ctx = ctx_for(store, w, st.cpr, "t-039", fee=225)
    doctor_step = w.steps[w.step_index("doctor")]
    draft = {"effective": TODAY.isoformat()}
    assert "wizard.after45.ev.no_doctor" in [m.key for m in doctor_step.evidence(draft, ctx)]
    options = [o.value for o in doctor_step.fields[0].options(draft, ctx)]
    assert options[:2] == [after45.RESTORE, after45.NONE] and OPEN.provider_number in options
    draft = walk(w, ctx, {"effective": TODAY.isoformat()})
    assert draft["new_doctor"] == after45.RESTORE
    planned = w.plan(draft, ctx.states, ctx)
    choice = next(p for p in planned if p.kind == "doctor_choice")
    assert (choice.payload["provider_number"], choice.payload["force_rule"], choice.payload["fee"]["paid"],
            choice.payload["fee"]["code"]) == (CLOSED.provider_number, "return_to_last_gp", False, "group_return")
    note = next(p for p in planned if p.kind == "note_add").payload["text"]
    assert "2.4.1" in note and CLOSED.practice_name in note
    case = store.create_case("2.4.1", st.cpr, "t-039")
    store.commit_case(case.id, planned, TODAY)
    end = store.load_person(st.cpr)
    for day in (TODAY + timedelta(n) for n in range(-3, 10)):
        doc = end.current_doctor(day)
        assert (doc.provider_number if doc else None) == (CLOSED.provider_number if day >= TODAY else None), day


def test_card_after_group4_into_group1_warns_and_takes_a_free_doctor_choice(store: Store) -> None:
    st = _served(store, "041", 4)
    w = WIZARDS["card_after_group45"]
    ctx = ctx_for(store, w, st.cpr, "t-041", fee=225)
    draft = walk(w, ctx, {"card_taken": "yes", "new_doctor": OPEN.provider_number})
    step = w.steps[w.step_index("doctor")]
    assert step.evidence(draft, ctx)[-2].key == "wizard.after45.ev.no_doctor"
    planned = w.plan(draft, ctx.states, ctx)
    choice = next(p for p in planned if p.kind == "doctor_choice")
    assert (choice.payload["provider_number"], choice.payload["fee"]) == (
        OPEN.provider_number, {"paid": False, "amount": 0, "reason": after45.FEE_FREE_RESTORE, "code": "group_return"})
    assert OPEN.practice_name in draft["note"]
    case = store.create_case("3.1.7", st.cpr, "t-041")
    store.commit_case(case.id, planned, TODAY)
    end = store.load_person(st.cpr)
    assert (end.current_group(TODAY).group, end.current_doctor(TODAY).provider_number) == (1, OPEN.provider_number)


def test_a_doctor_choice_that_ran_through_the_service_simply_goes_on(store: Store) -> None:
    number = a_cpr(date(2002, 5, 7), seed=88)
    st = a_person(number)
    st = replace(st, groups=(GroupRegistration("g1", 1, date(2010, 1, 2), date(2026, 2, 2)),
                             GroupRegistration("g5", 5, date(2026, 2, 2))), tasks=(a_task(number, "039", "t-039"),))
    put(store, st)
    w = WIZARDS["discharge"]
    ctx = ctx_for(store, w, number, "t-039", fee=225)
    draft = walk(w, ctx, {"effective": TODAY.isoformat()})
    assert draft["new_doctor"] == after45.KEEP
    assert "wizard.after45.ev.no_doctor" not in [m.key for m in w.steps[1].evidence(draft, ctx)]
    assert [p.kind for p in w.plan(draft, ctx.states, ctx)] == ["group_switch", "note_add", "task_close"]
