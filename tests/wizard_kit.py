"""Shared helpers for the wizards' scenario tests: walk a wizard as the screen does."""

from __future__ import annotations

from datetime import date

from sygesikring_tui.domain.model import PersonState
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.domain.wizards import Wizard, WizardContext
from sygesikring_tui.store import Store

TODAY = date(2026, 11, 25)


def put(store: Store, *states: PersonState) -> None:
    with store.transaction():
        for st in states:
            store.save_person(st)


def ctx_for(store: Store, wizard: Wizard, cpr: str, task_id: str | None, *, fee: int,
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
