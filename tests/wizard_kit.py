"""The one kit of the wizard tests: walk a wizard as the screen does, commit its plan, and drive
the app from the inbox (real key presses) to a task found in the training store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from screens.wizards.engine import WizardScreen
from sygesikring_tui.domain import rules
from sygesikring_tui.domain.fees import within_three_months
from sygesikring_tui.domain.model import CardStatus, PersonState, RelationKind
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.domain.wizards import Wizard, WizardContext, host_move, prison_switch
from sygesikring_tui.domain.workarounds import condition_value
from sygesikring_tui.store import Store, open_store

TODAY = date(2026, 11, 25)
FEE = 225  # this year's card fee, as the engine gives it (data/fees.json)


def put(store: Store, *states: PersonState) -> None:
    with store.transaction():
        for st in states:
            store.save_person(st)


def ctx_for(store: Store, wizard: Wizard, cpr: str, task_id: str | None, *, fee: int = FEE,
            today: date = TODAY) -> WizardContext:
    """The context the engine builds: the person, the related persons the store knows."""
    state = store.load_person(cpr)
    states = {cpr: state}
    for other in wizard.related_cprs(state):
        o = store.load_person(other)
        if o is not None:
            states[other] = o
    return WizardContext(today, cpr, task_id, states, store.providers(), fee)


def walk(wizard: Wizard, ctx: WizardContext, answers: dict[str, str],
         visited: list[tuple[int, dict[str, str]]] | None = None) -> dict[str, str]:
    """Go through the active steps as the screen does: defaults, the caseworker's answers,
    validation of each step (which must pass). ``visited`` collects (step index, draft as the
    step is shown) for every step passed through."""
    draft: dict[str, str] = {}
    i = wizard.active_steps(draft, ctx)[0]
    while i is not None:
        if visited is not None:
            visited.append((i, wizard.fill_defaults(wizard.steps[i], draft, ctx)))
        step = wizard.steps[i]
        draft = wizard.fill_defaults(step, draft, ctx)
        draft.update({k: v for k, v in answers.items() if k in {f.id for f in step.fields}})
        errors = wizard.validate_step(step, draft, ctx)
        assert errors == [], (step.id, errors)
        i = wizard.next_step(i, draft, ctx)
    return draft


def op_tuples(planned: list[PlannedOp]) -> list[tuple[str, str, dict]]:
    return [(p.cpr, p.kind, dict(p.payload)) for p in planned]


# -- driving the app: find a training task, open its wizard from the inbox ---------------------

SIZE = (80, 24)


def find_task(path: Path, code: str, pred: Callable[[PersonState], bool]) -> tuple[str, str]:
    """(cpr, task id) of the first open ``code`` task whose person satisfies ``pred``."""
    with open_store(path, create=False) as s:
        for tid, cpr in s.conn.execute(
                "SELECT id, cpr FROM tasks WHERE status = 'open' AND event_code = ? ORDER BY rid", (code,)):
            st = s.load_person(cpr)
            if pred(st):
                return cpr, tid
    raise AssertionError(f"the training store has no open {code} task of that kind")


async def open_from_inbox(pilot, cpr: str, task_id: str) -> WizardScreen:
    """Search the inbox for the CPR number, move to the task, press w."""
    await pilot.pause()
    await pilot.press("slash", *cpr, "enter")
    await pilot.pause()
    inbox = pilot.app.screen
    for _ in range(10):
        if inbox.inbox_list.selected["id"] == task_id:
            break
        await pilot.press("down")
        await pilot.pause()
    assert inbox.inbox_list.selected["id"] == task_id
    await pilot.press("w")
    await pilot.pause()
    from screens.confirm import ChoiceDialog

    if isinstance(pilot.app.screen, ChoiceDialog):  # a colleague of the training team holds the task
        await pilot.press("down", "enter")
        await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, WizardScreen)
    return screen


def immigrant_with_ordered_card(st: PersonState) -> bool:
    card = next((k for k in st.cards if k.status == CardStatus.ORDERED), None)
    return card is not None and st.current_group(TODAY).group == 1


def cohabitant_host(path: Path):
    def pred(st: PersonState) -> bool:
        rel = [r for r in st.relations if r.kind == RelationKind.COHABITANT]
        if not rel or not host_move.move_entry(st) or host_move.move_entry(st).start > TODAY:
            return False
        with open_store(path, create=False) as s:
            host = s.load_person(rel[0].other_cpr)
            cur = host.current_doctor(TODAY)
            mine = st.current_doctor(TODAY)
            from sygesikring_tui.domain import rules
            return (cur is not None and host.person.address.same_place(st.person.address)
                    and not s.provider(cur.provider_number).open
                    and (mine is None or mine.provider_number != cur.provider_number)
                    and rules.blocking_future_switch(st, TODAY) is None)
    return pred


def in_group(st: PersonState, group: int) -> bool:
    g = st.current_group(TODAY)
    return g is not None and g.group == group


def free_to_choose(st: PersonState) -> bool:
    """Group 1 and no future blocking switch (attention point 1)."""
    return in_group(st, 1) and rules.blocking_future_switch(st, TODAY) is None


def to_greenland(st: PersonState) -> bool:
    return condition_value("to_greenland", st, TODAY, lambda _n: None) and in_group(st, 1)


def from_greenland(st: PersonState) -> bool:
    return condition_value("from_greenland", st, TODAY, lambda _n: None)


def married_within(st: PersonState) -> bool:
    p = st.person
    return bool(p.married_on and p.name_changed_on and within_three_months(p.married_on, p.name_changed_on))


def in_group4_card_taken(st: PersonState) -> bool:
    g = st.current_group(TODAY)
    return g is not None and g.group == 4 and any(c.status == CardStatus.CANCELLED for c in st.cards)


def only_040(st: PersonState) -> bool:
    return not prison_switch.undone_by_041(st) and st.current_group(TODAY).group == 1


def commit(store: Store, wizard: Wizard, cpr: str, task_id: str | None, planned: list[PlannedOp], *,
           today: date = TODAY):
    """The review's ctrl+s: one case, the plan committed to the store (its rules checked)."""
    case = store.create_case(wizard.workaround_ids[0], cpr, task_id, {})
    return case, store.commit_case(case.id, planned, today=today, author="test")


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())
