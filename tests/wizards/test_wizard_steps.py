"""What every wizard shares: typed dates, the dry run that checks a plan as the commit will,
the design-card wizards registered under their sections."""

from __future__ import annotations

from datetime import date

import pytest

from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.domain.wizards import WIZARDS, dry_run, parse_date
from sygesikring_tui.store import Store
from sygesikring_tui.store.db import RuleViolation
from tests.factories import CLOSED, a_cpr, a_person
from tests.wizard_kit import FEE, TODAY, commit, put


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
