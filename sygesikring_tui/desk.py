"""The desk session: what a caseworker's desk works with (the case store, the catalogue, the
clock, the releases live in production, the caseworker) and the three things the screens do
with a case: suggest the wizard for a task, open the case (a new one or the open draft, with
the person read ONCE and the context the wizard sees), and commit it.

No Textual here: the screens call this and show the result.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from .catalogue import Catalogue
from .domain.model import Case, PersonState, Task
from .domain.operations import PlannedOp
from .drafts import DRAFT_WIZARD_KEY
from .store import Store

if TYPE_CHECKING:  # the wizards (every module of them) are imported when a case is opened, not at start
    from .domain.wizards import Wizard, WizardContext

log = logging.getLogger(__name__)


def default_caseworker() -> str:
    """The login name the operations are signed with when nobody else is named."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container): unsigned
        return ""


def find_draft(store: Store, wizard: Wizard, cpr: str, task_id: str | None,
               workaround_id: str | None) -> Case | None:
    """The open draft of ``wizard`` for this person and task, under any of its workaround ids."""
    for wid in dict.fromkeys([w for w in (workaround_id, *wizard.workaround_ids) if w]):
        case = store.open_draft(wid, cpr, task_id)
        if case is not None and case.draft.get(DRAFT_WIZARD_KEY, wizard.key) == wizard.key:
            return case
    return None


@dataclass(frozen=True)
class SuggestedCase:
    """The wizard the catalogue suggests for a task (``wizard_key`` None: there is none)."""

    state: PersonState
    task: Task
    wizard_key: str | None
    workaround_id: str | None


@dataclass(frozen=True)
class OpenedCase:
    case: Case
    resumed: bool
    context: WizardContext


class DeskSession:
    def __init__(self, store: Store, catalogue: Catalogue, clock: Callable[[], date], *,
                 live_releases: Callable[[], frozenset[str]] | None = None,
                 caseworker: str | Callable[[], str] = "") -> None:
        """``caseworker``: the initials operations are signed with, or a function giving them
        at each commit (the desk's signed-in caseworker)."""
        self.store = store
        self.catalogue = catalogue
        self.clock = clock
        self._live = live_releases
        self._caseworker = caseworker

    @property
    def caseworker(self) -> str:
        who = self._caseworker
        return who() if callable(who) else who

    @property
    def today(self) -> date:
        return self.clock()

    def live_releases(self) -> frozenset[str]:
        if self._live is not None:
            return self._live()
        from .releases import live_releases

        return live_releases()

    # -- suggest -------------------------------------------------------------------------------
    def suggest(self, cpr: str, task_id: str | None) -> SuggestedCase | None:
        """The suggestion for the person's task; None when there is no such person or task."""
        state = self.store.load_person(cpr)
        task = state.task(task_id) if (state is not None and task_id) else None
        if state is None or task is None:
            return None
        sug = self.catalogue.suggest(task.event_code, state, self.today, self.store.provider, self.live_releases())
        wizard = sug.wizard
        wid = sug.workaround_id or task.workaround_id
        if not wizard and wid and wid in self.catalogue.workarounds:
            wizard = self.catalogue.workarounds[wid].wizard
        return SuggestedCase(state, task, wizard or None, wid)

    # -- open ----------------------------------------------------------------------------------
    def open_case(self, wizard: Wizard, cpr: str, task_id: str | None, workaround_id: str | None,
                  state: PersonState | None = None) -> OpenedCase | None:
        """The open draft (resumed) or a new case, and the wizard's context; None when the store
        has no such person. ``state``: the person already read (by :meth:`suggest`)."""
        state = state if state is not None else self.store.load_person(cpr)
        if state is None:
            return None
        case = find_draft(self.store, wizard, cpr, task_id, workaround_id)
        resumed = case is not None
        if case is None:
            wid = workaround_id if workaround_id in wizard.workaround_ids else wizard.workaround_ids[0]
            case = self.store.create_case(wid, cpr, task_id, {DRAFT_WIZARD_KEY: wizard.key})
        return OpenedCase(case, resumed, self.context(wizard, case, state))

    def context(self, wizard: Wizard, case: Case, state: PersonState | None = None) -> WizardContext:
        """What the wizard sees: the person (read once), the related persons, providers, fee."""
        state = state if state is not None else self.store.load_person(case.cpr)
        states: dict[str, PersonState] = {state.cpr: state}
        for other in wizard.related_cprs(state):
            o = self.store.load_person(other)
            if o is not None:
                states[o.cpr] = o
        try:
            fee = self.catalogue.card_fee(self.today.year)
        except Exception:  # noqa: BLE001 - the fee is shown, a missing table must not stop the wizard
            log.exception("card fee table unavailable")
            fee = 0
        from .domain.wizards import WizardContext

        return WizardContext(self.today, case.cpr, case.task_id, states, self.store.providers(), fee)

    # -- commit --------------------------------------------------------------------------------
    def commit(self, case_id: str, planned: list[PlannedOp]) -> list[Any]:
        """ONE commit of the case's operations (the store checks every rule)."""
        return self.store.commit_case(case_id, planned, today=self.today, author=self.caseworker)
