"""The doctor-choice wizards driven by real key presses: from the inbox (w on the task) for
2.1.1, 2.3.2, 2.6.1 and 2.6.2, and from the person screen's wizard list for 2.3.1."""

from __future__ import annotations

from pathlib import Path

from conftest import TODAY

from screens.app import make_app
from screens.wizards.engine import WizardScreen
from sygesikring_tui.domain.wizards import dispensation, guardian_choice, host_move
from sygesikring_tui.domain.model import CardStatus, ChoiceStatus, PersonState, RelationKind, TaskStatus
from sygesikring_tui.store import open_store
from tests.wizard_kit import SIZE, cohabitant_host, find_task, immigrant_with_ordered_card, open_from_inbox


def _store_states(path: Path, *cprs: str) -> list[PersonState]:
    with open_store(path, create=False) as s:
        return [s.load_person(c) for c in cprs]


async def _walk_to_review(pilot, screen: WizardScreen, limit: int = 6) -> None:
    for _ in range(limit):
        if screen.on_review:
            return
        await pilot.press("ctrl+n")
        await pilot.pause()
    errors = [str(w.render()) for w in screen.query(".wiz-error")]
    assert screen.on_review, (screen.wizard.steps[screen.step_no].id, errors)


async def test_immigration_from_inbox_new_doctor_and_the_auto_card_cancelled(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "014", immigrant_with_ordered_card)
    (before,) = _store_states(training_store, cpr)
    auto = before.current_doctor(TODAY)
    ordered = [k.id for k in before.cards if k.status == CardStatus.ORDERED]
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "immigration"
        opts = [o.value for o in screen.wizard.steps[0].fields[0].options(screen.draft, screen.ctx)]
        with open_store(training_store, create=False) as s:
            open_ = [v for v in opts if s.provider(v).open]
        start, target = opts.index(screen.draft["provider"]), opts.index(open_[1])
        # the second-nearest open doctor instead of the suggested one
        await pilot.press(*["down"] * (target - start))
        await pilot.pause()
        assert screen.query_one("#fld-provider").highlighted_option.id == open_[1]
        await _walk_to_review(pilot, screen)
        chosen = screen.draft["provider"]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, WizardScreen)
    (st,) = _store_states(training_store, cpr)
    doc = st.current_doctor(TODAY)
    assert doc.provider_number == chosen != auto.provider_number
    assert (doc.fee.paid, doc.fee.amount) == (False, 0)
    assert {k.id: k.status for k in st.cards}[ordered[-1]] == CardStatus.CANCELLED
    assert st.task(task_id).status == TaskStatus.CLOSED
    assert "annulleret" in st.notes[-1].text


async def test_host_move_from_inbox_hosts_closed_doctor_forced_fee_waived_with_reason(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "034", cohabitant_host(training_store))
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "host_move"
        await pilot.press("ctrl+n", "ctrl+n")  # the move is in effect; the host's doctor
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "fee"
        await pilot.press("down", "ctrl+n")  # waive, without a reason: refused at the field
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "fee"
        assert "begrundelsen" in str(screen.query_one("#err-fee_waiver").render())
        await pilot.press(*"Fejlvejledt ved flytning", "ctrl+n")  # the focus is on the field in error
        await pilot.pause()
        await _walk_to_review(pilot, screen)
        await pilot.press("ctrl+s")
        await pilot.pause()
    (st,) = _store_states(training_store, cpr)
    doc = st.current_doctor(TODAY)
    assert (doc.forced, doc.force_rule, doc.fee.paid) == (True, "cohabitant", False)
    assert "Fejlvejledt ved flytning" in doc.fee.reason
    assert st.task(task_id).closed_reason == host_move.CLOSE_HOST


async def test_dispensation_from_inbox_open_doctor_within_the_rule(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "L02", lambda st: not st.person.luna_known
                             and st.current_group(TODAY).group == 1)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "dispensation"
        await _walk_to_review(pilot, screen)
        chosen = screen.draft["provider"]
        await pilot.press("ctrl+s")
        await pilot.pause()
    (st,) = _store_states(training_store, cpr)
    doc = st.current_doctor(TODAY)
    assert doc.provider_number == chosen
    with open_store(training_store, create=False) as s:
        assert s.provider(chosen).open
    assert doc.status in (ChoiceStatus.APPROVED, ChoiceStatus.PROVISIONAL)
    assert (doc.status == ChoiceStatus.PROVISIONAL) == (doc.provisional_until is not None)
    assert "kræver dispensation" in st.notes[-1].text
    assert st.task(task_id).closed_reason == dispensation.CLOSE_DISP


async def test_guardian_choice_from_inbox_note_names_the_guardian(training_store: Path) -> None:
    def pred(st: PersonState) -> bool:
        return any(r.kind == RelationKind.GUARDIAN for r in st.relations) and st.current_group(TODAY).group == 1

    cpr, task_id = find_task(training_store, "021", pred)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "guardian_choice"
        guardian_cpr = screen.draft["counterpart"]
        await _walk_to_review(pilot, screen)
        await pilot.press("ctrl+s")
        await pilot.pause()
    st, guardian = _store_states(training_store, cpr, guardian_cpr)
    assert guardian.person.name in st.notes[-1].text and guardian_cpr[:6] in st.notes[-1].text
    assert st.task(task_id).closed_reason == guardian_choice.CLOSE_GUARD
    assert [h.action for h in st.history if h.action != "case_time"][-1] == "task_close"  # (the wizard time follows)


async def test_cohabitant_doctor_from_the_person_screen_wizard_list(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "034", cohabitant_host(training_store))
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("slash", *cpr, "enter")
        await pilot.pause()
        await pilot.press("enter")  # open the person from the task
        await pilot.pause()
        person = app.screen
        await pilot.press("7")  # the wizards tab
        await pilot.pause()
        index = next(i for i, w in enumerate(person.wizards) if w.wizard_key == "cohabitant_doctor")
        await pilot.press(*["down"] * index, "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WizardScreen) and screen.wizard.key == "cohabitant_doctor"
        await _walk_to_review(pilot, screen)
        await pilot.press("ctrl+s")
        await pilot.pause()
    (st,) = _store_states(training_store, cpr)
    doc = st.current_doctor(TODAY)
    assert (doc.forced, doc.force_rule, doc.fee.paid, doc.reason) == (True, "cohabitant", True, "samboende")
    assert st.task(task_id).status == TaskStatus.OPEN  # started without the task: the task stays
