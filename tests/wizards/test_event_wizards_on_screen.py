"""The events family driven by real key presses: from the inbox (search the task's CPR, `w`)
for the task-started wizards, from the person screen's wizard list for 2.7.8, through every
step and the review to the committed store state."""

from __future__ import annotations

from pathlib import Path

from conftest import TODAY

from textual.widgets import Input

from screens.app import make_app
from screens.person import PersonScreen
from screens.confirm import ChoiceDialog
from screens.wizards.engine import WizardScreen
from sygesikring_tui.domain.wizards import rediscovery, texts
from sygesikring_tui.domain import rules
from sygesikring_tui.domain.model import PersonState, RelationKind, TaskStatus
from sygesikring_tui.fmt import parse_date
from sygesikring_tui.i18n import t
from sygesikring_tui.store import open_store
from tests.wizard_kit import SIZE, find_task, free_to_choose, from_greenland, open_from_inbox, to_greenland


async def press_steps(pilot, screen: WizardScreen, step_ids: list[str]) -> None:
    """Ctrl+N through the named steps, asserting each is the one on screen."""
    for sid in step_ids:
        assert not screen.on_review and screen.wizard.steps[screen.step_no].id == sid, sid
        await pilot.press("ctrl+n")
        await pilot.pause()


async def press_through(pilot, screen: WizardScreen, step_ids: list[str]) -> None:
    """Ctrl+N through the named steps to the review."""
    await press_steps(pilot, screen, step_ids)
    assert screen.on_review, str(screen.query_one("#wiz-step-error").render())


async def commit(pilot, app) -> None:
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert not isinstance(app.screen, WizardScreen), str(app.screen.query_one("#wiz-step-error").render())


async def test_to_greenland_from_inbox_group_7_doctor_ended_future_removed(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "013", to_greenland)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "greenland" and screen.draft["direction"] == "to_greenland"
        await press_through(pilot, screen, ["direction", "to_greenland"])
        moved = parse_date(screen.draft["moved"]).isoformat()  # the field shows DD-MM-YYYY
        await commit(pilot, app)
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        g = st.current_group(TODAY)
        assert (g.group, g.effective.isoformat()) == (7, moved)
        assert st.future_groups(TODAY) == []
        assert all(x.effective.isoformat() <= moved for x in st.doctors)
        assert st.current_doctor(TODAY) is None
        assert "Grønland" in st.notes[-1].text
        assert st.task(task_id).closed_reason == texts.GL_CLOSE_TO


async def test_from_greenland_from_inbox_only_a_follow_up(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "034", from_greenland)
    with open_store(training_store, create=False) as s:
        before = s.load_person(cpr)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "greenland" and screen.draft["direction"] == "from_greenland"
        await pilot.press("enter")  # the suggested direction
        await pilot.pause()
        await press_through(pilot, screen, ["from_greenland"])
        await commit(pilot, app)
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        assert (st.groups, st.doctors) == (before.groups, before.doctors)
        (fu,) = st.followups
        assert fu.done is None and "sikringsgruppe 1" in fu.text
        assert st.task(task_id).closed_reason == texts.GL_CLOSE_FROM


async def test_practice_transfer_from_inbox_free_on_the_transfer_date(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "PLO1", free_to_choose)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "practice_transfer"
        chosen, on = screen.draft["provider"], screen.draft["effective"]
        assert on  # the transfer date from the PLO event
        field = screen.query_one("#fld-effective", Input)
        hints = " ".join(str(h.render()) for h in screen.query(".wiz-hint"))
        assert field.disabled and t("wizard.hint.locked") in hints  # fixed, and said in words
        await pilot.press("tab", "tab", "1")
        assert parse_date(field.value) == parse_date(on) == parse_date(screen.draft["effective"])
        await press_through(pilot, screen, ["doctor", "note"])
        await commit(pilot, app)
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        # the draft holds the date as the field shows it (dd-mm-yyyy) once autosaved, else ISO
        new = next(x for x in st.doctors if x.effective == parse_date(on) and x.provider_number == chosen)
        assert (new.reason, new.fee.paid, new.fee.reason) == ("selvvalgt", False, texts.TRANSFER_FEE_REASON)
        assert "ikke opkrævet gebyr" in st.notes[-1].text
        assert st.task(task_id).closed_reason == texts.TRANSFER_CLOSE


async def test_child_free_choice_from_inbox_free_choice_on_the_child(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "PLO2", free_to_choose)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "child_free_choice"
        parent = screen.draft["parent"]
        await press_steps(pilot, screen, ["verify"])
        chosen = screen.draft["provider"]
        assert not _closed(app, chosen)  # the parent's open doctor, else the nearest open
        await press_through(pilot, screen, ["doctor", "note"])
        await commit(pilot, app)
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        doc = st.current_doctor(TODAY)
        assert (doc.provider_number, doc.fee.paid, doc.reason) == (chosen, False, texts.CHILD_FREE_REASON)
        assert parent in {r.other_cpr for r in st.relations_of(RelationKind.RESIDENCE_PARENT)}
        assert parent[:6] in st.notes[-1].text
        assert st.task(task_id).closed_reason == texts.CHILD_FREE_CLOSE


def _closed(app, number: str) -> bool:
    p = app.store.provider(number)
    return p is not None and not p.open


async def test_rediscovery_from_inbox_ends_missing_choice_and_chooses_open_doctor(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "011", lambda st: free_to_choose(st) and rediscovery.missing_choice(st)
                             is not None)
    with open_store(training_store, create=False) as s:
        missing_id = rediscovery.missing_choice(s.load_person(cpr)).id
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "rediscovery"
        chosen = screen.draft["provider"]
        assert not _closed(app, chosen)
        await press_through(pilot, screen, ["doctor"])
        await commit(pilot, app)
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        assert next(x for x in st.doctors if x.id == missing_id).end == TODAY
        doc = st.current_doctor(TODAY)
        assert (doc.provider_number, doc.forced, doc.fee.paid) == (chosen, False, False)
        assert st.task(task_id).status == TaskStatus.CLOSED


async def test_rediscovery_previous_closed_doctor_needs_the_rule_and_its_basis(training_store: Path) -> None:
    with open_store(training_store, create=False) as s:
        near = {}
        providers = s.providers().values()

        def previous_offered(st: PersonState) -> bool:
            last = rediscovery.last_doctor(st)
            if not free_to_choose(st) or last is None:
                return False
            ranked = [r.provider.provider_number for r in rules.rank_providers(st.person.address, providers)][:20]
            near[st.cpr] = last.provider_number
            return last.provider_number in ranked

    cpr, task_id = find_task(training_store, "011", previous_offered)
    previous = near[cpr]
    with open_store(training_store, create=False) as s:
        assert not s.provider(previous).open
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        index = screen.query_one("#fld-provider").get_option_index(previous)
        await pilot.press("home", *["down"] * index, "ctrl+n")
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "force"
        await pilot.press("ctrl+n")  # no basis written: refused at the field
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "force"
        assert str(screen.query_one("#err-force_basis").render())
        await pilot.press(*"Lægen accepterede", "ctrl+n")  # the error put the cursor in the field
        await pilot.pause()
        assert screen.on_review
        await commit(pilot, app)
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        doc = st.current_doctor(TODAY)
        assert (doc.provider_number, doc.forced, doc.force_rule) == (previous, True, "doctor_accepted")
        assert "Lægen accepterede" in st.notes[-1].text


async def test_child_home_from_the_person_screen_free_doctor_change(training_store: Path) -> None:
    def at_parent(st: PersonState) -> bool:
        return free_to_choose(st) and any(r.kind == RelationKind.RESIDENCE_PARENT for r in st.relations)

    cpr, task_id = find_task(training_store, "036", at_parent)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("slash", *cpr, "enter")
        await pilot.pause()
        await pilot.press("enter")  # open the person
        await pilot.pause()
        person = app.screen
        assert isinstance(person, PersonScreen) and person.cpr == cpr
        await pilot.press("7")
        await pilot.pause()
        index = next(i for i, w in enumerate(person.wizards) if w.wizard_key == "child_home")
        await pilot.press(*["down"] * index, "enter")
        await pilot.pause()
        if isinstance(app.screen, ChoiceDialog):  # a colleague of the training team holds the task
            await pilot.press("down", "enter")
            await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WizardScreen) and screen.wizard.key == "child_home"
        parent = screen.draft["parent"]
        await press_steps(pilot, screen, ["verify"])
        chosen = screen.draft["provider"]
        assert not _closed(app, chosen)
        await press_through(pilot, screen, ["doctor", "note"])
        await commit(pilot, app)
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        doc = st.current_doctor(TODAY)
        assert (doc.provider_number, doc.reason, doc.fee.paid) == (chosen, "flytning", False)
        assert parent[:6] in st.notes[-1].text and "2.7.8" in st.notes[-1].text
