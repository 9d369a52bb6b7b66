"""``check`` is total: for any operation body, of any kind, with arbitrary and hostile field
values, check refuses it (a violation or a PayloadError) or ``apply`` succeeds and the new
state encodes as UTF-8 JSON and decodes back. And every wizard's planned operations, for the
training data's tasks, pass check."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sygesikring_tui.domain.model import (
    CardStatus,
    Fee,
    FollowUp,
    GroupRegistration,
    HealthCard,
    Operation,
    PersonState,
    from_json,
    to_json,
)
from sygesikring_tui.domain.operations import FEE_FIELDS, SCHEMA, PayloadError, RuleContext, apply, check
from tests.factories import CLOSED, PROVIDERS, RULE_DAY, a_person, a_task

PROVS = {p.provider_number: p for p in PROVIDERS}
CTX = RuleContext(RULE_DAY, PROVS.get, providers=PROVS.values)


def _state() -> PersonState:
    s = a_person(tasks=(a_task("0", task_id="t-1"),))
    s = replace(s, tasks=tuple(replace(t, cpr=s.cpr) for t in s.tasks),
                groups=s.groups + (GroupRegistration("g-future", 2, date(2027, 1, 1)),),
                cards=(HealthCard("c-1", CardStatus.ORDERED, date(2026, 1, 1), Fee(True, 225, "tabt", "lost")),),
                followups=(FollowUp("f-1", "2026-01-01T10:00:00", "ring", date(2026, 4, 1)),))
    return s


STATE = _state()

hostile_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "\ud800", "a\udfffb", "x" * 10_001, "t-1", "c-1", "f-1",
                     f"d-{STATE.cpr}", "g-future", CLOSED.provider_number, "012345", "cohabitant",
                     "doctor_accepted", "approved", "provisional", "ended", "missing"]),
)
hostile_date = st.one_of(st.dates().map(date.isoformat),
                         st.sampled_from(["2026-03-02", "2026-02-30", "20260302", "2026-W10-1", "0000-01-01",
                                          "9999-12-31", "i morgen", ""]))
anything = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), hostile_text),
                        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                        max_leaves=6)


def _value(kind: str) -> st.SearchStrategy:
    if kind == "fee":
        typed = st.fixed_dictionaries({}, optional={k: _value(t) for k, (t, _r, _l) in FEE_FIELDS.items()})
    else:
        typed = {"text": hostile_text, "date": hostile_date, "bool": st.booleans(),
                 "int": st.one_of(st.integers(-3, 12), st.integers(), st.just(225))}[kind]
    return st.one_of(typed, typed, anything)  # mostly well typed, sometimes anything at all


@st.composite
def operations(draw: st.DrawFn) -> Operation:
    kind = draw(st.sampled_from([*SCHEMA, "explode"]))
    spec = SCHEMA.get(kind, {})
    payload = draw(st.fixed_dictionaries({}, optional={k: _value(t) for k, (t, _r, _l) in spec.items()}))
    if draw(st.booleans()):
        payload.update(draw(st.dictionaries(st.sampled_from(["at", "author", "extra", "group", "fee"]),
                                            anything, max_size=2)))
    case_id = draw(st.one_of(st.none(), hostile_text))
    return Operation("op-1", kind, STATE.cpr, payload, STATE.version, case_id)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations())
def test_check_refuses_or_apply_succeeds_never_an_exception(op: Operation) -> None:
    try:
        violations = check(STATE, op, CTX)
    except PayloadError:
        return
    if violations:
        return
    new = apply(STATE, op, CTX)
    text = json.dumps(to_json(new), ensure_ascii=False).encode("utf-8")
    assert from_json(PersonState, json.loads(text)) == new
    assert new.version == STATE.version + 1


def test_every_wizards_planned_operations_pass_check(training_store) -> None:
    """For the training data's tasks, each suggested wizard walked on its defaults plans only
    what check accepts (what the wizard's own validation allows, the rule book allows)."""
    from sygesikring_tui.catalogue import load_catalogue
    from sygesikring_tui.domain.wizards import WIZARDS, WizardContext, dry_run
    from sygesikring_tui.store import open_store
    from tests.conftest import TODAY

    cat = load_catalogue()
    store = open_store(training_store, training=True)
    planned_by_wizard: dict[str, int] = {}
    try:
        rows = store.conn.execute("SELECT id, cpr, workaround_id FROM tasks WHERE status = 'open' "
                                  "AND workaround_id IS NOT NULL ORDER BY id").fetchall()
        for task_id, cpr, wid in rows:
            wa = cat.workarounds.get(wid)
            wizard = WIZARDS.get(wa.wizard) if wa and wa.wizard else None
            if wizard is None or planned_by_wizard.get(wizard.key, 0) >= 8:
                continue
            state = store.load_person(cpr)
            states = {cpr: state}
            for other in wizard.related_cprs(state):
                o = store.load_person(other)
                if o is not None:
                    states[other] = o
            ctx = WizardContext(TODAY, cpr, task_id, states, store.providers(), cat.card_fee(TODAY.year))
            draft: dict[str, str] = {}
            steps = wizard.active_steps(draft, ctx)
            i = steps[0] if steps else None
            valid = True
            while i is not None:
                draft = wizard.fill_defaults(wizard.steps[i], draft, ctx)
                if wizard.validate_step(wizard.steps[i], draft, ctx):
                    valid = False  # the caseworker would have to answer: not a default walk
                    break
                i = wizard.next_step(i, draft, ctx)
            if not valid:
                continue
            planned = wizard.plan(draft, states, ctx)
            _end, problems = dry_run(planned, states, store.rule_context(TODAY))
            assert problems == [], (wizard.key, task_id, [(p.kind, [v.code for v in vs]) for p, vs in problems])
            planned_by_wizard[wizard.key] = planned_by_wizard.get(wizard.key, 0) + 1
    finally:
        store.close()
    assert len(planned_by_wizard) >= 5, planned_by_wizard


def test_the_walk_reaches_the_wizards_it_claims() -> None:
    """The default walk above must have something to prove: a wizard whose plan breaks a rule is
    caught (here, a planned doctor choice of a closed practice without a rule)."""
    from sygesikring_tui.domain.operations import PlannedOp
    from sygesikring_tui.domain.wizards import dry_run

    bad = [PlannedOp(STATE.cpr, "doctor_choice", {"provider_number": CLOSED.provider_number, "reason": "x",
                                                  "effective": "2026-03-02",
                                                  "fee": {"paid": True, "amount": 225, "code": "own_choice"}})]
    _end, problems = dry_run(bad, {STATE.cpr: STATE}, CTX)
    assert [v.code for _p, vs in problems for v in vs] == ["rule.future_switch_blocks", "rule.provider_closed"]
