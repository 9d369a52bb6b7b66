"""The three design-card wizards driven by real key presses from the inbox to the committed
store state, plus resume after quitting and a rule violation at commit."""

from __future__ import annotations

from pathlib import Path

from conftest import TODAY

from screens.app import make_app
from screens.wizards.engine import WizardScreen
from sygesikring_tui.domain.model import TaskStatus
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.domain.wizards import texts
from sygesikring_tui.domain.wizards.callup import suggest_callup
from sygesikring_tui.domain.wizards.renumbering import changes_to
from sygesikring_tui.i18n import t
from sygesikring_tui.store import open_store
from tests.wizard_kit import SIZE, find_task, open_from_inbox, text_of


async def test_renumbering_from_inbox_to_committed_store(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "P03", lambda st: bool(changes_to(st)))
    with open_store(training_store, create=False) as s:
        old_cpr = changes_to(s.load_person(cpr))[-1].old_cpr
        old_doctor = s.load_person(old_cpr).current_doctor(TODAY)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "renumbering"
        await pilot.press("enter")  # step 1: "Ja – personnummeret er ændret" (suggested from the history)
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "old"
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")  # old number, new number, note
        await pilot.pause()
        assert screen.on_review
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, WizardScreen)
    with open_store(training_store, create=False) as s:
        new, old = s.load_person(cpr), s.load_person(old_cpr)
        assert old.current_group(TODAY).group == 8
        assert new.current_group(TODAY).group == 1
        if old_doctor is not None:
            assert new.current_doctor(TODAY).provider_number == old_doctor.provider_number
            assert old_doctor.practice_name in old.notes[-2].text
        assert any(old_cpr[:6] in n.text and cpr[:6] in n.text for n in new.notes)
        assert new.task(task_id).status == TaskStatus.CLOSED
        assert new.task(task_id).closed_reason == texts.CLOSE_RENUMBERED
        # (the claim the wizard's start made is its own one-step case)
        rows = [r for r in s.outbox("pending") if r["cpr"] in (cpr, old_cpr) and r["kind"] != "task_claim"]
        assert rows and {r["case_id"] for r in rows} == {rows[0]["case_id"]}


async def test_callup_conscript_with_a_typed_date_and_a_bad_date_first(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "038", lambda st: suggest_callup(st) == "conscript"
                             and st.current_group(TODAY) is not None and st.current_group(TODAY).group == 1)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "callup"
        await pilot.press("enter")  # the suggestion: conscript
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "conscript"
        await pilot.press("home", "ctrl+k", *"31-02-2026", "enter")
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "conscript"  # not moved on
        assert text_of(screen, "#err-effective") == t("date.invalid")
        await pilot.press("home", "ctrl+k", *"24-11-2026", "enter")
        await pilot.pause()
        assert screen.on_review
        await pilot.press("ctrl+s")
        await pilot.pause()
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        g = st.current_group(TODAY)
        assert (g.group, g.effective.isoformat()) == (5, "2026-11-24")
        assert st.task(task_id).closed_reason == texts.CLOSE_CONSCRIPT


async def test_callup_caseworker_picks_state_posted_with_arrow_keys(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "038", lambda st: suggest_callup(st) == "conscript")
    with open_store(training_store, create=False) as s:
        groups_before = s.load_person(cpr).groups
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        await pilot.press("down", "enter")  # conscript → state-posted
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "state_posted"
        await pilot.press("ctrl+n", "ctrl+s")
        await pilot.pause()
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        assert st.groups == groups_before
        assert "statsudsendt" in st.notes[-1].text
        assert st.task(task_id).closed_reason == texts.CLOSE_STATE_POSTED


async def test_forced_choice_luna_from_inbox_leaves_open_followup(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "L01", lambda st: not st.person.luna_known
                             and st.current_group(TODAY) is not None and st.current_group(TODAY).group in (1, 2))
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "forced_choice_luna"
        chosen = screen.draft["provider"]
        await pilot.press("ctrl+n")  # the nearest closed practice
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "fee"
        await pilot.press("ctrl+n")  # fee charged
        await pilot.pause()
        assert screen.on_review
        await pilot.press("ctrl+s")
        await pilot.pause()
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        doc = st.current_doctor(TODAY)
        assert (doc.provider_number, doc.force_rule) == (chosen, "group2_to_1")
        assert st.current_group(TODAY).group == 1
        assert [f.done for f in st.followups if "dispensationsansøgningen" in f.text] == [None]
        assert st.task(task_id).status == TaskStatus.CLOSED


async def test_quitting_mid_wizard_and_relaunching_resumes_the_draft_at_the_same_step(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "038", lambda st: suggest_callup(st) == "conscript")
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("home", "ctrl+k", *"23-11-2026", "ctrl+n")  # on to the review (saved)
        await pilot.pause()
        await pilot.press("ctrl+b")  # back to the date step (saved there)
        await pilot.pause()
        step, case_id = screen.step_no, screen.case.id
        assert screen.wizard.steps[step].id == "conscript"
        await pilot.press("ctrl+q")  # quit the app with the wizard open
    app2 = make_app(training_store, today=TODAY)
    async with app2.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert (screen.case.id, screen.step_no) == (case_id, step)
        assert (screen.draft["decision"], screen.draft["effective"]) == ("conscript", "23-11-2026")
        assert screen.query_one("#fld-effective").value == "23-11-2026"
        await pilot.press("home", "ctrl+k", *"2026-11-22", "escape")  # close: what was typed is kept
        await pilot.pause()
        assert not isinstance(app2.screen, WizardScreen)
    with open_store(training_store, create=False) as s:
        draft = s.case(case_id)
        assert (draft.status, draft.step, draft.draft["effective"]) == ("draft", step, "2026-11-22")


async def test_rule_violation_at_commit_is_shown_in_danish_and_nothing_is_lost(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "038", lambda st: suggest_callup(st) == "short_stay")
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        await pilot.press("enter", "ctrl+n")
        await pilot.pause()
        assert screen.on_review
        # meanwhile the task is closed elsewhere (another case on the same desk)
        other = app.store.create_case("2.7.6", cpr, task_id)
        app.store.commit_case(other.id, [PlannedOp(cpr, "task_close", {"task_id": task_id, "reason": "x"})],
                              today=TODAY)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        shown = text_of(screen, "#wiz-step-error")
        assert t("rule.task_closed") in shown and "Traceback" not in shown
        assert app.store.case(screen.case.id).status == "draft"
