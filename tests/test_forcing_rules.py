"""Every forcing rule is judged by domain.check: refused when its condition fails, accepted
when it holds -- in check itself and through the desk store's commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from sygesikring_tui.domain import forcing
from sygesikring_tui.domain.model import Operation
from sygesikring_tui.domain.operations import PlannedOp, RuleContext, check
from sygesikring_tui.store import open_store
from sygesikring_tui.store.db import RuleViolation
from tests.factories import PROVIDERS, RULE_DAY, ForcingCase, forcing_cases

CASES = forcing_cases()


def test_every_forcing_rule_has_a_case_that_holds_and_one_that_fails() -> None:
    assert {(c.rule, c.ok) for c in CASES} == {(r, ok) for r in forcing.RULES for ok in (True, False)}


def _ctx(case: ForcingCase) -> RuleContext:
    by_cpr = {s.cpr: s for s in case.states}
    provs = {p.provider_number: p for p in PROVIDERS}
    return RuleContext(RULE_DAY, provs.get, person=by_cpr.get, providers=provs.values)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_check_refuses_a_forced_choice_exactly_when_its_rule_does_not_hold(case: ForcingCase) -> None:
    state = next(s for s in case.states if s.cpr == case.cpr)
    violations = check(state, Operation("op-1", "doctor_choice", case.cpr, case.payload, state.version), _ctx(case))
    if case.ok:
        assert violations == []
    else:
        assert violations, "a forced choice the rule does not cover was accepted"
        named = [v for v in violations if v.params.get("rule") == case.rule]
        assert named and named[0].params["section"] == forcing.RULES[case.rule].section


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_the_store_commit_applies_the_same_forcing_rule(case: ForcingCase, tmp_path: Path) -> None:
    store = open_store(tmp_path / "desk.db")
    try:
        store.upsert_providers(PROVIDERS)
        with store.transaction():
            for s in case.states:
                store.save_person(s)
        before = store.load_person(case.cpr)
        c = store.create_case("rule", case.cpr, None)
        planned = [PlannedOp(case.cpr, "doctor_choice", case.payload)]
        if case.ok:
            store.commit_case(c.id, planned, RULE_DAY)
            doc = store.load_person(case.cpr).current_doctor(RULE_DAY)
            assert (doc.provider_number, doc.forced, doc.force_rule) == (case.payload["provider_number"], True,
                                                                         case.rule)
        else:
            with pytest.raises(RuleViolation) as err:
                store.commit_case(c.id, planned, RULE_DAY)
            assert case.rule in [v.params.get("rule") for v in err.value.violations]
            assert store.load_person(case.cpr) == before and store.outbox() == []
    finally:
        store.close()


def test_a_parent_child_relation_beside_the_cohabitant_one_blocks_the_cohabitant_rule() -> None:
    bad = next(c for c in CASES if c.rule == "cohabitant" and not c.ok)
    state = next(s for s in bad.states if s.cpr == bad.cpr)
    assert [r.kind.value for r in state.relations][0] == "spouse"  # the first relation alone would allow it
    codes = [v.code for v in check(state, Operation("op", "doctor_choice", bad.cpr, bad.payload, 1), _ctx(bad))]
    assert codes == ["rule.cohabitant_parent_child"]


def test_the_wizard_offer_uses_the_same_predicate_as_check() -> None:
    from sygesikring_tui.domain.wizards import WizardContext
    from sygesikring_tui.domain.wizards import doctor_choice as dc

    for case in CASES:
        by_cpr = {s.cpr: s for s in case.states}
        ctx = WizardContext(RULE_DAY, case.cpr, None, by_cpr, {p.provider_number: p for p in PROVIDERS}, 225)
        rule = dc.ChoiceRule(closed="force", force_rule=case.rule,
                             via=lambda dr, cx, v=case.payload.get("via_cpr"): v)
        prov = ctx.provider(case.payload["provider_number"])
        allowed = dc.force_problem(prov, {"force_basis": case.payload.get("force_basis", "")}, ctx, rule) is None
        # the basis is asked after the choice: the offer judges the rule's predicate alone
        expected = case.ok or forcing.RULES[case.rule].needs_basis
        assert allowed == expected, case
