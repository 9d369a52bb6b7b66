"""Wizard drafts on the desk: which tasks have one, and whether a draft can still pass.

A draft is a case in status ``draft`` (``store.db``). It can go stale: another case for the
same person (e.g. 2.3.1 committed while a 2.3.2 draft waits) may close its task or change
the state its answers were checked against. :func:`draft_problems` says why in rule codes
(translation keys), so the desk can offer to discard or restart it instead of leaving it
stuck. Core module: no Textual.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from .store.db import Store

if TYPE_CHECKING:
    # The domain and the wizard modules load when a draft is judged, not when the inbox
    # lists which tasks have one (that is before its first frame).
    from .domain.model import Case, PersonState
    from .domain.operations import Violation
    from .domain.wizards import Wizard, WizardContext

DRAFT_WIZARD_KEY = "_wizard"  # the wizard key, kept in the draft next to the field values


def draft_task_ids(store: Store) -> frozenset[str]:
    """The tasks that have an unfinished wizard draft."""
    rows = store.conn.execute(
        "SELECT DISTINCT task_id FROM cases WHERE status = 'draft' AND task_id IS NOT NULL").fetchall()
    return frozenset(r[0] for r in rows)


def drafts_for(store: Store, cpr: str) -> list[Case]:
    """The person's unfinished wizard drafts, newest first."""
    return [c for c in store.drafts() if c.cpr == cpr and wizard_of(c) is not None]


def wizard_of(case: Case) -> Wizard | None:
    from .domain.wizards import WIZARDS

    key = case.draft.get(DRAFT_WIZARD_KEY)
    if key in WIZARDS:
        return WIZARDS[key]
    return next((w for w in WIZARDS.values() if case.workaround_id in w.workaround_ids), None)


def context_for(store: Store, wizard: Wizard, cpr: str, task_id: str | None, today: date,
                card_fee: int = 0) -> WizardContext | None:
    """The wizard's context from the store (None: the person is not in the store)."""
    state = store.load_person(cpr)
    if state is None:
        return None
    states: dict[str, PersonState] = {state.cpr: state}
    for other in wizard.related_cprs(state):
        o = store.load_person(other)
        if o is not None:
            states[o.cpr] = o
    from .domain.wizards import WizardContext

    return WizardContext(today, cpr, task_id, states, store.providers(), card_fee)


def draft_problems(store: Store, case: Case, today: date, card_fee: int = 0) -> list[Violation]:
    """Why the draft can no longer pass (empty: it can still be finished). Looks at its task
    (still open?), the steps already answered (still valid?) and, for a draft that reached
    the review, the rules its operations would meet now."""
    from .domain.model import TaskStatus
    from .domain.operations import Violation

    wizard = wizard_of(case)
    if wizard is None:
        return [Violation("draft.unknown_wizard")]
    ctx = context_for(store, wizard, case.cpr, case.task_id, today, card_fee)
    if ctx is None:
        return [Violation("rule.person_unknown")]
    out: list[Violation] = []
    if case.task_id is not None:
        task = ctx.state.task(case.task_id)
        if task is None:
            out.append(Violation("rule.task_unknown"))
        elif task.status != TaskStatus.OPEN:
            out.append(Violation("draft.task_closed", {"event": task.event_code}))
    draft: dict[str, Any] = {k: str(v) for k, v in case.draft.items() if v is not None}
    answered = [i for i in wizard.active_steps(draft, ctx) if i < case.step]
    for i in answered:
        out.extend(Violation(e.key, dict(e.params)) for e in wizard.validate_step(wizard.steps[i], draft, ctx))
    if not out and case.step >= len(wizard.steps):
        try:
            planned = wizard.plan(draft, ctx.states, ctx)
        except Exception:  # noqa: BLE001 - a draft its plan cannot read any more
            return [Violation("draft.unreadable")]
        from .domain.wizards import dry_run

        _end, violations = dry_run(planned, ctx.states, ctx.rule_context())
        out.extend(v for _p, vs in violations for v in vs)
    return _unique(out)


def _unique(items: list[Violation]) -> list[Violation]:
    seen: list[Violation] = []
    for v in items:
        if v not in seen:
            seen.append(v)
    return seen
