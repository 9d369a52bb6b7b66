"""Doctor choice done properly (domain/wizards/doctor_choice.py) and the wizards built on it
(2.1.1, 2.3.1, 2.3.2, 2.6.1, 2.6.2/3.1.3): the person the guide describes, the steps with the
caseworker's answers, the exact operations, then the store's end state after commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from tests.factories import AARHUS, CLOSED, FAR, OPEN, a_cpr, a_person
from tests.wizard_kit import op_tuples as ops
from tests.wizard_kit import put, walk

from sygesikring_tui.domain import rules
from sygesikring_tui.domain.model import (
    Address,
    AddressEntry,
    CardStatus,
    ChoiceStatus,
    CprEvent,
    DoctorChoice,
    Fee,
    GroupRegistration,
    HealthCard,
    PersonState,
    Provider,
    Relation,
    RelationKind,
    Task,
    TaskStatus,
)
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.domain.wizards import (
    cohabitant_doctor,
    dispensation,
    fee_step,
    guardian_choice,
    host_move,
    immigration,
)
from sygesikring_tui.domain.wizards import WIZARDS, Wizard, WizardContext, dry_run
from sygesikring_tui.domain.wizards import doctor_choice as dc
from sygesikring_tui.domain.wizards.texts import c
from sygesikring_tui.i18n import t
from sygesikring_tui.store import Store, open_store
from tests.wizard_kit import commit, ctx_for

TODAY = date(2026, 11, 25)
FEE = 225
# A second open practice in Aarhus, nearer than OPEN; a closed one 8 km away (within 15 km).
NEAR = Provider("023456", "Lægerne Åboulevarden", True, 751, 56.1575, 10.2060, "Åboulevarden 2")
CLOSED_8KM = Provider("034567", "Lægehuset Viby", False, 751, 56.130, 10.110, "Viby Torv 1")
PROVIDERS = [OPEN, CLOSED, FAR, NEAR, CLOSED_8KM]


STORE_PROVIDERS = PROVIDERS


def step_errors(wizard: Wizard, ctx: WizardContext, step_id: str, draft: dict[str, str]) -> list[str]:
    step = wizard.steps[wizard.step_index(step_id)]
    return [e.key for e in wizard.validate_step(step, wizard.fill_defaults(step, draft, ctx), ctx)]


def person(seed: int, born: date = date(1985, 6, 12), *, doctor: Provider | None = OPEN, address: Address = AARHUS,
           **kw) -> PersonState:
    st = a_person(a_cpr(born, seed=seed), doctor=doctor)
    return replace(st, person=replace(st.person, address=address, **kw),
                   addresses=(AddressEntry(date(2010, 1, 2), address),))


def link(a: PersonState, b: PersonState, kind: RelationKind, back: RelationKind) -> tuple[PersonState, PersonState]:
    a = replace(a, relations=a.relations + (Relation(kind, b.cpr, b.person.name, date(2020, 1, 1)),))
    b = replace(b, relations=b.relations + (Relation(back, a.cpr, a.person.name, date(2020, 1, 1)),))
    return a, b


def with_task(st: PersonState, code: str, task_id: str, data: dict | None = None,
              event_date: date = date(2026, 11, 23)) -> PersonState:
    ev = CprEvent(f"e-{task_id}", code, event_date, event_date + timedelta(days=1), data or {})
    task = Task(task_id, st.cpr, code, ev.id, ev.received, ev.received + timedelta(days=5))
    return replace(st, events=st.events + (ev,), tasks=st.tasks + (task,))


# == the shared doctor-choice helper =============================================================

def test_offer_is_sorted_by_straight_line_km_within_the_rule_first_and_says_so_in_words(store: Store) -> None:
    st = person(1)
    put(store, st)
    ctx = WizardContext(TODAY, st.cpr, None, {st.cpr: st}, store.providers(), FEE)
    rule = dc.ChoiceRule(closed="force", force_rule="cohabitant")  # closed doctors can be chosen here
    opts = dc.options({}, ctx, rule)
    assert [o.value for o in opts] == [NEAR.provider_number, OPEN.provider_number, CLOSED.provider_number,
                                       CLOSED_8KM.provider_number, FAR.provider_number]
    from screens.wizards.engine import (
        tr,  # the engine's translation of nested *_key params
    )

    near, closed8, far = (tr(o.label) for o in (opts[0], opts[3], opts[4]))
    assert "åben" in near and "km i luftlinje" in near and "inden for 15 km" in near
    assert "lukket for tilgang" in closed8 and "inden for 15 km" in closed8 and "kan ikke vælges" not in closed8
    assert "UDEN FOR afstandskravet (15 km)" in far


def test_closed_doctors_that_cannot_be_chosen_come_after_every_open_one_and_say_so(store: Store) -> None:
    from screens.wizards.engine import tr

    st = person(1)
    put(store, st)
    ctx = WizardContext(TODAY, st.cpr, None, {st.cpr: st}, store.providers(), FEE)
    opts = dc.options({}, ctx, dc.ChoiceRule())  # closed="refuse"
    assert [o.value for o in opts] == [NEAR.provider_number, OPEN.provider_number, FAR.provider_number,
                                       CLOSED.provider_number, CLOSED_8KM.provider_number]
    assert all("lukket for tilgang – kan ikke vælges her" in tr(o.label) for o in opts[3:])
    lines = [tr(m) for m in dc.distance_lines({}, ctx, dc.ChoiceRule())]
    assert "luftlinje (ikke vejafstand)" in lines[0]


def test_five_km_rule_in_copenhagen_marks_an_8_km_doctor_beyond(store: Store) -> None:
    kbh = Address("Nørregade 1", "1165", "København K", 101, 56.157, 10.205)  # same spot, municipality 101
    st = person(2, address=kbh)
    ctx = WizardContext(TODAY, st.cpr, None, {st.cpr: st}, store.providers(), FEE)
    by_number = {r.provider.provider_number: r for r in dc.offered({}, ctx, dc.ChoiceRule())}
    assert rules.distance_limit_km(101) == 5.0
    assert 5 < by_number[CLOSED_8KM.provider_number].km < 15
    assert by_number[CLOSED_8KM.provider_number].within_limit is False
    assert [o.label.params["limit"] for o in dc.options({}, ctx, dc.ChoiceRule())][:1] == ["5"]
    assert any(m.key == "doctors.ev.capital" for m in dc.distance_lines({}, ctx, dc.ChoiceRule()))


def test_closed_doctor_refused_without_a_force_rule_and_named_when_a_rule_covers_it(store: Store) -> None:
    st = person(3)
    ctx = WizardContext(TODAY, st.cpr, None, {st.cpr: st}, store.providers(), FEE)
    draft = {"provider": CLOSED.provider_number}
    assert [e.key for e in dc.validate("provider", draft, ctx, dc.ChoiceRule())] == ["doctors.error.closed"]
    covered = dc.ChoiceRule(closed="force", force_rule="doctor_accepted")
    assert dc.validate("provider", draft, ctx, covered) == []
    lines = dc.chosen_lines(draft, ctx, covered)
    assert ("doctors.ev.forced", "force.doctor_accepted") in [(m.key, m.params.get("rule_key")) for m in lines]
    # the forcing rule's own predicate decides: this person made no return to group 1
    not_covered = dc.ChoiceRule(closed="force", force_rule="return_to_last_gp")
    other = dc.validate("provider", draft, ctx, not_covered)
    assert [(e.key, e.params["rule_key"], e.params["why_key"]) for e in other] == [
        ("doctors.error.closed_not_covered", "force.return_to_last_gp", "rule.force.no_return")]
    with pytest.raises(ValueError):
        dc.ChoiceRule(closed="force", force_rule="because_i_say_so")


def test_attention_point_1_blocks_at_the_provider_step_and_is_silent_without_a_future_switch(store: Store) -> None:
    st = person(4)
    ctx = WizardContext(TODAY, st.cpr, None, {st.cpr: st}, store.providers(), FEE)
    assert dc.validate("provider", {"provider": NEAR.provider_number}, ctx, dc.ChoiceRule()) == []
    blocked = replace(st, groups=st.groups + (GroupRegistration("g-future", 4, date(2026, 12, 10)),))
    ctx = WizardContext(TODAY, st.cpr, None, {st.cpr: blocked}, store.providers(), FEE)
    errs = dc.validate("provider", {"provider": NEAR.provider_number}, ctx, dc.ChoiceRule())
    assert [(e.key, e.params["group"], e.params["date"]) for e in errs] == [("doctors.error.ap1", 4, "10-12-2026")]
    assert "beholder sin nuværende læge" in t("doctors.error.ap1", **errs[0].params)
    # a future switch to group 1 does not block
    harmless = replace(st, groups=st.groups + (GroupRegistration("g-f1", 6, date(2026, 12, 10)),))
    ctx = WizardContext(TODAY, st.cpr, None, {st.cpr: harmless}, store.providers(), FEE)
    assert dc.validate("provider", {"provider": NEAR.provider_number}, ctx, dc.ChoiceRule()) == []


def test_attention_point_3_flags_a_minor_given_a_parents_closed_doctor_and_not_an_adult() -> None:
    parent = person(5, doctor=CLOSED)
    child = person(6, born=date(2016, 3, 3), doctor=OPEN)
    child, parent = link(child, parent, RelationKind.PARENT, RelationKind.CHILD)
    rule = dc.ChoiceRule(closed="force", force_rule="turning_15")
    draft = {"provider": CLOSED.provider_number}
    provs = {p.provider_number: p for p in PROVIDERS}
    ctx = WizardContext(TODAY, child.cpr, None, {child.cpr: child, parent.cpr: parent}, provs, FEE)
    assert [m.key for m in dc.chosen_lines(draft, ctx, rule)][-1] == "attention.ap3"
    adult = person(7, born=date(1990, 3, 3), doctor=OPEN)
    adult, parent2 = link(adult, parent, RelationKind.PARENT, RelationKind.CHILD)
    ctx = WizardContext(TODAY, adult.cpr, None, {adult.cpr: adult, parent.cpr: parent2}, provs, FEE)
    assert "attention.ap3" not in [m.key for m in dc.chosen_lines(draft, ctx, rule)]


def test_fee_step_free_by_rule_paid_by_default_and_a_waiver_needs_a_written_reason(store: Store) -> None:
    st = person(8)
    ctx = WizardContext(TODAY, st.cpr, None, {st.cpr: st}, store.providers(), FEE)
    free = fee_step.fee_step(lambda dr, cx: "moving")
    assert [o.value for o in free.fields[0].options({}, ctx)] == ["free"]
    assert fee_step.fee_payload({"fee": "free"}, ctx, "moving") == {"paid": False, "amount": 0, "reason": "flytning – gratis", "code": "moving"}
    paid = fee_step.fee_step(lambda dr, cx: "cohabitant")
    assert [o.value for o in paid.fields[0].options({}, ctx)] == ["charge", "waive"]
    assert paid.fields[0].default({}, ctx) == "charge"
    assert [e.key for e in paid.validate({"fee": "waive", "fee_waiver": "  "}, ctx)] == ["doctors.error.waiver"]
    assert paid.validate({"fee": "waive", "fee_waiver": "Borger fejlvejledt"}, ctx) == []
    assert fee_step.fee_payload({"fee": "charge"}, ctx, "cohabitant") == {
        "paid": True, "amount": FEE, "reason": "samboendes læge – selvvalgt lægeskift", "code": "cohabitant"}
    assert fee_step.fee_payload({"fee": "waive", "fee_waiver": "Borger fejlvejledt"}, ctx, "cohabitant") == {
        "paid": False, "amount": 0, "reason": "samboendes læge – selvvalgt lægeskift; gebyr frafaldet: Borger fejlvejledt",
        "code": "cohabitant", "waiver": "Borger fejlvejledt"}


# == 2.1.1 immigration ===========================================================================

def _immigrant(store: Store, card_status: CardStatus) -> PersonState:
    arrived = date(2026, 11, 20)
    st = person(10, doctor=None)
    auto = DoctorChoice("d-auto", OPEN.provider_number, OPEN.practice_name, "Automatisk tildelt", arrived,
                        fee=Fee(False, 0, "Indrejse"))
    old_card = HealthCard("k-old", CardStatus.SENT, date(2015, 1, 1), Fee(False, 0, "første kort"))
    card = HealthCard("k-auto", card_status, arrived, Fee(False, 0, "Indrejse"), "Lægevalg: Automatisk tildelt")
    st = replace(st, groups=(GroupRegistration("g7", 7, date(2019, 1, 1), arrived), GroupRegistration("g1", 1, arrived)),
                 doctors=(auto,), cards=(old_card, card))
    st = with_task(st, "014", "t-014", {"country": "ES"}, event_date=arrived)
    put(store, st)
    return st


def test_immigration_new_choice_free_cancels_the_card_still_ordered(store: Store) -> None:
    st = _immigrant(store, CardStatus.ORDERED)
    w = WIZARDS["immigration"]
    ctx = ctx_for(store, w, st.cpr, "t-014")
    draft = walk(w, ctx, {})
    assert draft["provider"] == NEAR.provider_number  # nearest open, not the automatic one
    assert OPEN.provider_number not in [o.value for o in w.steps[0].fields[0].options(draft, ctx)]
    planned = w.plan(draft, ctx.states, ctx)
    note = immigration._imm_note(draft, ctx)
    assert "annulleret" in note and OPEN.practice_name in note and "20-11-2026" in note
    assert ops(planned) == [
        (st.cpr, "doctor_choice", {"provider_number": NEAR.provider_number, "practice_name": NEAR.practice_name,
                                   "reason": "indrejse – første lægevalg", "effective": "2026-11-25",
                                   "forced": False, "status": "approved",
                                   "fee": {"paid": False, "amount": 0,
                                           "reason": "første lægevalg efter indrejse – gratis",
                                           "code": "first_choice"}}),
        (st.cpr, "card_cancel", {"card_id": "k-auto"}),
        (st.cpr, "card_order", {"ordered_on": "2026-11-25",
                                "fee": {"paid": False, "amount": 0, "reason": "første sundhedskort – gratis",
                                        "code": "first_card"},
                                "reason": immigration.CARD_REASON_IMMIGRATION}),
        (st.cpr, "note_add", {"text": note}),
        (st.cpr, "task_close", {"task_id": "t-014", "reason": immigration.CLOSE_IMMIGRATION}),
    ]
    commit(store, w, st.cpr, "t-014", planned)
    end = store.load_person(st.cpr)
    assert end.current_doctor(TODAY).provider_number == NEAR.provider_number
    assert end.current_doctor(TODAY).fee == Fee(False, 0, "første lægevalg efter indrejse – gratis", "first_choice")
    assert {k.id: k.status for k in end.cards}["k-auto"] == CardStatus.CANCELLED
    assert [k.status for k in end.cards if k.id not in ("k-old", "k-auto")] == [CardStatus.ORDERED]
    assert end.task("t-014").status == TaskStatus.CLOSED
    assert end.notes[-1].text == note


def test_immigration_card_already_sent_records_the_accepted_two_card_risk_and_cancels_nothing(store: Store) -> None:
    st = _immigrant(store, CardStatus.SENT)
    w = WIZARDS["immigration"]
    ctx = ctx_for(store, w, st.cpr, "t-014")
    card_step = w.steps[w.step_index("card")]
    assert "doctors.imm.ev.two_cards" in [m.key for m in card_step.evidence({"provider": NEAR.provider_number}, ctx)]
    planned = w.plan(walk(w, ctx, {"new_card": "no"}), ctx.states, ctx)
    assert [p.kind for p in planned] == ["doctor_choice", "note_add", "task_close"]
    note = planned[1].payload["text"]
    assert "kunne ikke annulleres (status: sendt)" in note and "to sundhedskort" in note and "regionen" in note
    commit(store, w, st.cpr, "t-014", planned)
    assert {k.id: k.status for k in store.load_person(st.cpr).cards}["k-auto"] == CardStatus.SENT


def test_immigration_refuses_a_person_without_an_immigration(store: Store) -> None:
    st = person(11)
    put(store, st)
    w = WIZARDS["immigration"]
    ctx = ctx_for(store, w, st.cpr, None)
    assert step_errors(w, ctx, "doctor", {}) == ["doctors.imm.error.no_arrival"]


# == 2.3.1 cohabitant's closed doctor ============================================================

def _couple(store: Store, kind: RelationKind = RelationKind.COHABITANT, *, same_address: bool = True,
            partner_doctor: Provider = CLOSED) -> tuple[PersonState, PersonState]:
    me = person(20, doctor=OPEN)
    other_addr = AARHUS if same_address else replace(AARHUS, street="Søndergade 40")
    partner = person(21, born=date(1983, 2, 2), doctor=partner_doctor, address=other_addr, name="Lise Holm")
    back = {RelationKind.COHABITANT: RelationKind.COHABITANT, RelationKind.SPOUSE: RelationKind.SPOUSE,
            RelationKind.PARENT: RelationKind.CHILD}[kind]
    me, partner = link(me, partner, kind, back)
    put(store, me, partner)
    return me, partner


def test_cohabitant_closed_doctor_forced_under_the_named_rule_fee_charged(store: Store) -> None:
    me, partner = _couple(store)
    w = WIZARDS["cohabitant_doctor"]
    ctx = ctx_for(store, w, me.cpr, None)
    assert set(ctx.states) == {me.cpr, partner.cpr}
    draft = walk(w, ctx, {})
    assert (draft["cohabitant"], draft["provider"], draft["fee"]) == (partner.cpr, CLOSED.provider_number, "charge")
    assert [o.value for o in w.steps[1].fields[0].options(draft, ctx)] == [CLOSED.provider_number]
    planned = w.plan(draft, ctx.states, ctx)
    note = planned[1].payload["text"]
    assert "gennemtvunget efter reglen om ret til samboendes læge (2.3.1)" in note and partner.person.name in note
    assert ops(planned) == [
        (me.cpr, "doctor_choice", {"provider_number": CLOSED.provider_number, "practice_name": CLOSED.practice_name,
                                   "reason": "samboende", "effective": "2026-11-25", "forced": True,
                                   "force_rule": "cohabitant", "via_cpr": partner.cpr, "status": "approved",
                                   "fee": {"paid": True, "amount": FEE,
                                           "reason": "samboendes læge – selvvalgt lægeskift", "code": "cohabitant"}}),
        (me.cpr, "note_add", {"text": note}),
    ]
    commit(store, w, me.cpr, None, planned)
    doc = store.load_person(me.cpr).current_doctor(TODAY)
    assert (doc.provider_number, doc.forced, doc.force_rule, doc.fee.paid, doc.fee.amount) == (
        CLOSED.provider_number, True, "cohabitant", True, FEE)


def test_cohabitant_fee_waived_only_with_a_written_reason(store: Store) -> None:
    me, _partner = _couple(store, RelationKind.SPOUSE)
    w = WIZARDS["cohabitant_doctor"]
    ctx = ctx_for(store, w, me.cpr, None)
    assert step_errors(w, ctx, "fee", {"cohabitant": _partner.cpr, "provider": CLOSED.provider_number,
                                        "fee": "waive"}) == ["doctors.error.waiver"]
    planned = w.plan(walk(w, ctx, {"fee": "waive", "fee_waiver": "fejl i selvbetjeningen"}), ctx.states, ctx)
    assert planned[0].payload["fee"] == {"paid": False, "amount": 0, "reason":
                                         "samboendes læge – selvvalgt lægeskift; gebyr frafaldet: fejl i selvbetjeningen",
                                         "code": "cohabitant", "waiver": "fejl i selvbetjeningen"}
    commit(store, w, me.cpr, None, planned)


def test_cohabitant_parent_child_refused_with_the_reason_and_other_address_refused(store: Store) -> None:
    me, parent = _couple(store, RelationKind.PARENT)
    w = WIZARDS["cohabitant_doctor"]
    ctx = ctx_for(store, w, me.cpr, None)
    errs = w.validate_step(w.steps[0], {"cohabitant": parent.cpr}, ctx)
    assert [(e.key, e.params["relation"]) for e in errs] == [("doctors.cohab.error.parent_child", "forælder")]
    assert "ægteskabslignende" in t(errs[0].key, **errs[0].params)
    # the store's rule agrees: a forced cohabitant choice via a parent is a violation
    bad = PlannedOp(me.cpr, "doctor_choice", {"provider_number": CLOSED.provider_number, "reason": "samboende",
                                              "effective": "2026-11-25", "forced": True, "force_rule": "cohabitant",
                                              "via_cpr": parent.cpr, "fee": {"paid": True, "amount": FEE, "code": "cohabitant"}})
    _end, problems = dry_run([bad], ctx.states, ctx.rule_context())
    assert [v.code for _p, vs in problems for v in vs] == ["rule.cohabitant_parent_child"]


def test_cohabitant_at_another_address_is_refused(store: Store) -> None:
    me, partner = _couple(store, same_address=False)
    w = WIZARDS["cohabitant_doctor"]
    ctx = ctx_for(store, w, me.cpr, None)
    assert [e.key for e in w.validate_step(w.steps[0], {"cohabitant": partner.cpr}, ctx)] == [
        "doctors.cohab.error.address"]


def test_cohabitant_with_an_open_doctor_is_an_ordinary_choice_not_forced(store: Store) -> None:
    me, _partner = _couple(store, partner_doctor=NEAR)
    w = WIZARDS["cohabitant_doctor"]
    ctx = ctx_for(store, w, me.cpr, None)
    planned = w.plan(walk(w, ctx, {}), ctx.states, ctx)
    assert planned[0].payload["forced"] is False and "force_rule" not in planned[0].payload


# == 2.3.2 host moves ============================================================================

def _mover(store: Store, moved: date) -> tuple[PersonState, PersonState]:
    host = person(30, doctor=CLOSED, name="Hanne Kjær")
    old_home = Address("Banegårdsgade 3", "8300", "Odder", 727, 55.973, 10.153)
    me = person(31, born=date(1990, 1, 4), doctor=OPEN, address=AARHUS)
    me = replace(me, addresses=(AddressEntry(date(2015, 1, 1), old_home), AddressEntry(moved, AARHUS)))
    me, host = link(me, host, RelationKind.COHABITANT, RelationKind.COHABITANT)
    me = with_task(me, "034", "t-034", {"municipality_code": 751, "host": True}, event_date=moved)
    put(store, me, host)
    return me, host


def test_host_move_in_effect_chooses_the_hosts_closed_doctor_forced_and_charged(store: Store) -> None:
    me, host = _mover(store, date(2026, 11, 22))
    w = WIZARDS["host_move"]
    ctx = ctx_for(store, w, me.cpr, "t-034")
    draft = walk(w, ctx, {})
    planned = w.plan(draft, ctx.states, ctx)
    note = planned[1].payload["text"]
    assert "trådt i kraft 22-11-2026" in note and host.person.name in note and "Gebyr 225 kr." in note
    assert ops(planned) == [
        (me.cpr, "doctor_choice", {"provider_number": CLOSED.provider_number, "practice_name": CLOSED.practice_name,
                                   "reason": "samboende", "effective": "2026-11-25", "forced": True,
                                   "force_rule": "cohabitant", "via_cpr": host.cpr, "status": "approved",
                                   "fee": {"paid": True, "amount": FEE,
                                           "reason": "samboendes læge – selvvalgt lægeskift", "code": "cohabitant"}}),
        (me.cpr, "note_add", {"text": note}),
        (me.cpr, "task_close", {"task_id": "t-034", "reason": host_move.CLOSE_HOST}),
    ]
    commit(store, w, me.cpr, "t-034", planned)
    end = store.load_person(me.cpr)
    assert end.current_doctor(TODAY).provider_number == CLOSED.provider_number
    assert end.task("t-034").status == TaskStatus.CLOSED


def test_host_move_not_yet_in_effect_is_refused(store: Store) -> None:
    me, _host = _mover(store, date(2026, 12, 1))
    w = WIZARDS["host_move"]
    ctx = ctx_for(store, w, me.cpr, "t-034")
    assert step_errors(w, ctx, "move", {}) == ["doctors.host.error.not_yet"]


# == 2.6.1 dispensation ==========================================================================

def test_dispensation_offers_only_open_doctors_within_the_rule_and_approves(store: Store) -> None:
    st = replace(person(40), person=replace(person(40).person, luna_known=False))
    st = with_task(st, "L02", "t-l02", {"provider_number": FAR.provider_number, "dispensation": True})
    put(store, st)
    w = WIZARDS["dispensation"]
    ctx = ctx_for(store, w, st.cpr, "t-l02")
    offered = [o.value for o in w.steps[0].fields[0].options({}, ctx)]
    assert offered == [NEAR.provider_number, OPEN.provider_number]  # no closed, no far while open ones are near
    draft = walk(w, ctx, {"reason": "own_choice"})
    planned = w.plan(draft, ctx.states, ctx)
    p = planned[0].payload
    assert (p["provider_number"], p["status"], "provisional_until" in p) == (NEAR.provider_number, "approved", False)
    assert p["fee"] == {"paid": True, "amount": FEE, "reason": "selvvalgt lægeskift", "code": "own_choice"}
    note = planned[1].payload["text"]
    assert "inden for afstandskravet" in note and "søge om en læge tættere på, der kræver dispensation" in note
    assert f"ønsket: {FAR.practice_name}" in note and "14 dage" in note
    assert [x.kind for x in planned] == ["doctor_choice", "note_add", "task_close"]
    commit(store, w, st.cpr, "t-l02", planned)
    assert store.load_person(st.cpr).current_doctor(TODAY).status == ChoiceStatus.APPROVED


def test_dispensation_with_no_open_doctor_within_the_rule_is_provisional_for_14_days(tmp_path: Path) -> None:
    s = open_store(tmp_path / "far.db")
    with s.transaction():
        s.upsert_providers([CLOSED, FAR, CLOSED_8KM])
    st = replace(person(41, doctor=None), person=replace(person(41).person, luna_known=False),
                 addresses=(AddressEntry(date(2026, 11, 1), AARHUS),))
    st = with_task(st, "L02", "t-l02")
    put(s, st)
    w = WIZARDS["dispensation"]
    ctx = ctx_for(s, w, st.cpr, "t-l02")
    assert [o.value for o in w.steps[0].fields[0].options({}, ctx)] == [FAR.provider_number]
    draft = walk(w, ctx, {})
    assert draft["reason"] == "moving"  # moved 24 days ago
    assert "doctors.disp.ev.provisional_chosen" in [m.key for m in w.steps[1].evidence(draft, ctx)]
    planned = w.plan(draft, ctx.states, ctx)
    p = planned[0].payload
    assert (p["status"], p["provisional_until"]) == ("provisional", "2026-12-09")
    assert p["fee"] == {"paid": False, "amount": 0, "reason": "flytning – gratis", "code": "moving"}
    assert "til 09-12-2026" in planned[1].payload["text"]
    commit(s, w, st.cpr, "t-l02", planned)
    doc = s.load_person(st.cpr).current_doctor(TODAY)
    assert (doc.status, doc.provisional_until) == (ChoiceStatus.PROVISIONAL, date(2026, 12, 9))
    s.close()


# == 2.6.2 / 3.1.3 guardian ======================================================================

def _guardianship(store: Store, *, both_sides: bool = True, wards: int = 1):
    guardian = person(50, born=date(1970, 5, 5), name="Birgit Lund")
    made = []
    for i in range(wards):
        ward = person(51 + i, born=date(1940, 1, 2 + i), doctor=OPEN)
        if both_sides:
            ward, guardian = link(ward, guardian, RelationKind.GUARDIAN, RelationKind.WARD)
        else:
            ward = replace(ward, relations=(Relation(RelationKind.GUARDIAN, guardian.cpr, guardian.person.name),))
        made.append(ward)
    made[0] = with_task(made[0], "021", "t-021", {"guardian_cpr": guardian.cpr})
    put(store, guardian, *made)
    return guardian, made


def test_guardian_choice_on_the_ward_with_a_note_naming_the_guardian(store: Store) -> None:
    guardian, (ward,) = _guardianship(store)
    w = WIZARDS["guardian_choice"]
    ctx = ctx_for(store, w, ward.cpr, "t-021")
    draft = walk(w, ctx, {})
    assert (draft["counterpart"], draft["route"], draft["provider"]) == (guardian.cpr, "desk", NEAR.provider_number)
    planned = w.plan(draft, ctx.states, ctx)
    note = planned[1].payload["text"]
    assert f"{guardian.person.name} ({c(guardian.cpr)})" in note and "3.1.3" in note
    assert ops(planned) == [
        (ward.cpr, "doctor_choice", {"provider_number": NEAR.provider_number, "practice_name": NEAR.practice_name,
                                     "reason": "selvvalgt – foretaget for værge", "effective": "2026-11-25",
                                     "forced": False, "status": "approved",
                                     "fee": {"paid": True, "amount": FEE,
                                             "reason": "lægeskift for person under værgemål – som selvvalgt",
                                             "code": "guardian_on_behalf"}}),
        (ward.cpr, "note_add", {"text": note}),
        (ward.cpr, "task_close", {"task_id": "t-021", "reason": guardian_choice.CLOSE_GUARD}),
    ]
    commit(store, w, ward.cpr, "t-021", planned)
    end = store.load_person(ward.cpr)
    assert end.current_doctor(TODAY).provider_number == NEAR.provider_number
    assert end.task("t-021").status == TaskStatus.CLOSED
    assert store.load_person(guardian.cpr).doctors == guardian.doctors  # nothing on the guardian


def test_guardianship_registered_on_one_side_only_is_refused(store: Store) -> None:
    guardian, (ward,) = _guardianship(store, both_sides=False)
    w = WIZARDS["guardian_choice"]
    ctx = ctx_for(store, w, ward.cpr, "t-021")
    assert step_errors(w, ctx, "relation", {}) == ["doctors.guard.error.guardian_side"]


def test_guardian_with_two_wards_makes_one_choice_for_the_ward_picked(store: Store) -> None:
    guardian, wards = _guardianship(store, wards=2)
    moved = replace(wards[1], addresses=(AddressEntry(date(2026, 9, 1), wards[1].person.address),))
    put(store, moved)
    wards = [wards[0], moved]
    w = WIZARDS["guardian_choice"]
    ctx = ctx_for(store, w, guardian.cpr, None)  # started on the guardian (person screen)
    step = w.steps[0]
    assert [o.value for o in step.fields[0].options({}, ctx)] == [wards[0].cpr, wards[1].cpr]
    assert "doctors.guard.ev.one_at_a_time" in [m.key for m in step.evidence({}, ctx)]
    draft = walk(w, ctx, {"counterpart": wards[1].cpr, "reason": "moving"})
    planned = w.plan(draft, ctx.states, ctx)
    assert {p.cpr for p in planned} == {wards[1].cpr}
    assert [p.kind for p in planned] == ["doctor_choice", "note_add"]
    assert planned[0].payload["fee"] == {"paid": False, "amount": 0, "reason": "flytning – gratis", "code": "moving"}
    # the offer is ranked from the ward's address, and the ward's current doctor is not the default
    assert draft["provider"] != wards[1].doctors[0].provider_number
    commit(store, w, guardian.cpr, None, planned)
    assert store.load_person(wards[0].cpr).doctors == wards[0].doctors


def test_guardian_with_mitid_power_of_attorney_only_notes_the_guidance(store: Store) -> None:
    guardian, (ward,) = _guardianship(store)
    w = WIZARDS["guardian_choice"]
    ctx = ctx_for(store, w, ward.cpr, "t-021")
    draft = walk(w, ctx, {"route": "mitid"})
    assert [w.steps[i].id for i in w.active_steps(draft, ctx)] == ["relation", "note"]
    planned = w.plan(draft, ctx.states, ctx)
    assert [p.kind for p in planned] == ["note_add", "task_close"]
    assert "fuldmagt i MitID" in planned[0].payload["text"] and guardian.person.name in planned[0].payload["text"]


def test_every_wizard_here_is_registered_under_its_catalogue_key() -> None:
    from sygesikring_tui.catalogue import load_catalogue

    cat = load_catalogue()
    for w in (immigration.IMMIGRATION, cohabitant_doctor.COHABITANT, host_move.HOST_MOVE,
              dispensation.DISPENSATION, guardian_choice.GUARDIAN):
        assert WIZARDS[w.key] is w
        assert all(cat.workarounds[wid].wizard == w.key for wid in w.workaround_ids)
