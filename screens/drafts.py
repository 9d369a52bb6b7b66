"""Wizard drafts on screen: "Kassér kladde" behind a confirmation, and a draft that can no
longer pass (``sygesikring_tui.drafts.draft_problems``) explained before the wizard opens,
with the choice to discard it or start again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sygesikring_tui import drafts as core
from sygesikring_tui.domain.cpr import mask
from sygesikring_tui.domain.model import Case
from sygesikring_tui.i18n import t

from .confirm import ChoiceDialog, confirm

if TYPE_CHECKING:
    from .app import SygesikringApp

log = logging.getLogger(__name__)


def draft_title(app: SygesikringApp, case: Case) -> str:
    w = app.catalogue.workarounds.get(case.workaround_id)
    return f"{w.id} {w.title()}" if w else case.workaround_id


def _card_fee(app: SygesikringApp) -> int:
    try:
        return app.catalogue.card_fee(app.today.year)
    except Exception:  # noqa: BLE001 - a missing fee table must not hide the draft's state
        return 0


def discard_flow(app: SygesikringApp, cases: list[Case], after: Callable[[], None] | None = None) -> None:
    """Ask, then discard ``cases`` (the drafts of one task or one wizard entry)."""
    if not cases:
        app.notify(t("draft.none"), severity="warning")
        return
    def names() -> str:  # in the language of the moment (ctrl+l redraws the dialog)
        return ", ".join(dict.fromkeys(draft_title(app, c) for c in cases))

    def answered(answer: str | None) -> None:
        if answer != "yes":
            return
        for c in cases:
            app.store.discard_case(c.id)
            log.info("draft %s of %s discarded", c.id, mask(c.cpr))
        app.notify(t("draft.discarded", n=len(cases)))
        if after is not None:
            after()

    app.push_screen(confirm(lambda: t("draft.discard_title"),
                            lambda: t("draft.discard_text", n=len(cases), wizard=names()), "draft.discard_yes"),
                    answered)


def check_before_resume(app: SygesikringApp, case: Case, resume: Callable[[], None]) -> None:
    """Open the draft (``resume``) if it can still pass; else say why and offer to discard it
    or start again (the draft is discarded, the wizard opens empty)."""
    problems = core.draft_problems(app.store, case, app.today, _card_fee(app))
    if not problems:
        resume()
        return
    from .quick import violation_text

    log.info("draft %s of %s can no longer pass: %s", case.id, mask(case.cpr), ", ".join(v.code for v in problems))

    def text() -> str:
        return t("draft.stale_text", wizard=draft_title(app, case)) + "\n" + \
            "\n".join(f"• {violation_text(v)}" for v in problems)

    def answered(answer: str | None) -> None:
        if answer in ("discard", "restart"):
            app.store.discard_case(case.id)
            log.info("stale draft %s of %s discarded", case.id, mask(case.cpr))
            app.notify(t("draft.discarded", n=1))
        if answer == "restart":
            resume()  # no draft now: the wizard starts from its first step

    app.push_screen(ChoiceDialog(lambda: t("draft.stale_title"), text,
                                 [("cancel", lambda: t("draft.stale_cancel")),
                                  ("discard", lambda: t("draft.stale_discard")),
                                  ("restart", lambda: t("draft.stale_restart"))]), answered)
