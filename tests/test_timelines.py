"""Timelines stay right: read the person's state on every day around each change."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sygesikring_tui.domain.model import ChoiceStatus, Operation, PersonState
from sygesikring_tui.domain.operations import RuleContext, apply, check
from sygesikring_tui.domain.wizards import WIZARDS
from sygesikring_tui.store import open_store
from tests.factories import CLOSED, OPEN, OPEN2, PAID, PROVIDERS, RULE_DAY, forcing_cases
from tests.wizard_kit import ctx_for, put, walk

PROVS = {p.provider_number: p for p in PROVIDERS}
TODAY = date(2026, 11, 25)
CTX = RuleContext(TODAY, PROVS.get, providers=PROVS.values)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(n) for n in range((end - start).days + 1)]


def run(state: PersonState, kind: str, **payload) -> PersonState:
    op = Operation(f"op-{kind}-{state.version}", kind, state.cpr, {"at": "2026-11-25T10:00:00", **payload},
                   state.version)
    assert check(state, op, CTX) == []
    return apply(state, op, CTX)


def _with_future(state: PersonState) -> PersonState:
    """A doctor choice and a switch to group 2 registered for 10 January 2027."""
    s = run(state, "doctor_choice", provider_number=OPEN2.provider_number, reason="selvvalgt",
            effective="2027-01-10", fee=dict(PAID))
    return run(s, "group_switch", group=2, effective="2027-01-10", reason="valgt")


def test_removing_future_registrations_leaves_the_running_group_and_doctor_running_after_their_dates() -> None:
    from tests.factories import a_person

    s = _with_future(a_person())
    assert s.current_group(date(2027, 1, 10)).group == 2  # the future is registered
    s = run(s, "remove_future", as_of=TODAY.isoformat())
    for day in days(TODAY - timedelta(5), date(2027, 2, 10)):
        assert s.current_group(day).group == 1, day
        assert s.current_doctor(day).provider_number == OPEN.provider_number, day
    assert s.future_groups(TODAY) == [] and all(d.effective <= TODAY for d in s.doctors)


def test_removing_future_keeps_an_end_the_caseworker_set_on_the_day_itself() -> None:
    from tests.factories import a_person

    s = _with_future(a_person())
    running = next(d for d in s.doctors if d.provider_number == OPEN.provider_number)
    s = run(s, "doctor_choice_end", choice_id=running.id, end="2026-12-01")
    s = run(s, "remove_future", as_of="2026-12-01")
    for day in days(TODAY, date(2027, 2, 1)):
        expected = OPEN.provider_number if day < date(2026, 12, 1) else None
        cur = s.current_doctor(day)
        assert (cur.provider_number if cur else None) == expected, day


def test_a_doctor_choice_effective_later_leaves_the_current_one_current_until_then() -> None:
    from tests.factories import a_person

    s = a_person()
    s = run(s, "doctor_choice", provider_number=OPEN2.provider_number, reason="selvvalgt", effective="2026-12-10",
            fee=dict(PAID))
    old = next(d for d in s.doctors if d.provider_number == OPEN.provider_number)
    assert old.status == ChoiceStatus.APPROVED  # not marked ended while it still runs
    for day in days(TODAY, date(2026, 12, 20)):
        expected = OPEN.provider_number if day < date(2026, 12, 10) else OPEN2.provider_number
        assert s.current_doctor(day).provider_number == expected, day
        assert old.state(day) == ("current" if day < date(2026, 12, 10) else "previous"), day


def test_after_renumbering_only_the_new_number_holds_the_doctor(tmp_path: Path) -> None:
    case = next(c for c in forcing_cases() if c.rule == "renumbering" and c.ok)
    old_cpr = next(s.cpr for s in case.states if s.cpr != case.cpr)
    store = open_store(tmp_path / "desk.db")
    try:
        store.upsert_providers(PROVIDERS)
        put(store, *case.states)
        w = WIZARDS["renumbering"]
        ctx = ctx_for(store, w, case.cpr, None, fee=225, today=RULE_DAY)
        draft = walk(w, ctx, {})
        case_row = store.create_case("2.7.5", case.cpr, None)
        store.commit_case(case_row.id, w.plan(draft, ctx.states, ctx), RULE_DAY)
        old, new = store.load_person(old_cpr), store.load_person(case.cpr)
    finally:
        store.close()
    on = date.fromisoformat(draft["effective"])  # the renumbering date from CPR (the wizard's default)
    assert on == next(ch.changed_on for ch in new.cpr_changes if ch.old_cpr == old_cpr)
    for day in days(on - timedelta(7), on + timedelta(30)):
        o, n = old.current_doctor(day), new.current_doctor(day)
        if day < on:
            assert (o.provider_number if o else None, n) == (CLOSED.provider_number, None), day
        else:
            assert (o, n.provider_number) == (None, CLOSED.provider_number), day
