"""Committing an operation made without a wizard (close a task, a note, a follow-up tick)
from a screen: a refused operation is shown in words (nothing written), a committed one is
confirmed (in training: saved locally, never sent), pushed by the sync worker at once, and
the inbox and person screens re-read the store."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sygesikring_tui.i18n import t
from sygesikring_tui.store.db import RuleViolation, StoreError

from .dialogs import MessageDialog

if TYPE_CHECKING:
    from .app import SygesikringApp

log = logging.getLogger(__name__)


def author(app: Any) -> str:
    """The caseworker's name for the record (as the wizards write it)."""
    from .wizards.engine import _author

    return _author(app)


def violation_text(v: Any) -> str:
    from .wizards.engine import tr

    return tr(v)


def run_quick(app: SygesikringApp, commit: Callable[[str], Any]) -> bool:
    """Run ``commit(author)``; True when it was written."""
    try:
        commit(author(app))
    except RuleViolation as exc:
        text = "\n".join(violation_text(v) for v in exc.violations)
        app.push_screen(MessageDialog(lambda: t("quick.refused.title"), lambda: text))
        return False
    except StoreError as exc:
        app.push_screen(MessageDialog(lambda: t("quick.refused.title"),
                                      lambda: t(f"store.{exc.code}", path=str(exc.path), detail=exc.detail)))
        return False
    return True


def committed(app: SygesikringApp, text: str) -> None:
    """After a commit: say so, push it, show it on every screen that shows the store."""
    from .inbox import InboxScreen
    from .person import PersonScreen

    saved = t("quick.saved_training") if getattr(app, "is_training", False) else t("quick.saved")
    app.notify(f"{text} {saved}")
    refresh = getattr(app, "refresh_sync_status", None)
    if callable(refresh):
        refresh()
    worker = getattr(app, "sync_worker", None)
    if worker is not None:
        worker.wake()
    for screen in app.screen_stack:
        if isinstance(screen, InboxScreen) and screen.is_mounted:
            screen.inbox_list.reload()
        elif isinstance(screen, PersonScreen) and screen.is_mounted:
            screen.load()
        else:
            reload = getattr(screen, "reload", None)
            if callable(reload) and screen.is_mounted:
                reload()
