"""Small widgets and helpers shared by the screens: header, training banner, key bar,
formatting, and the guard that keeps an exception in a handler from killing a widget.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from sygesikring_tui.domain.cpr import format_cpr
from sygesikring_tui.fmt import date_text
from sygesikring_tui.i18n import t

if TYPE_CHECKING:
    from .app import SygesikringApp

log = logging.getLogger(__name__)


class Guarded:
    """Mixin for widgets and screens: an exception in one of their message handlers is
    reported by the app (logged with CPR numbers masked, a short Danish message on screen)
    instead of stopping the widget's message loop and ending the app with a traceback.

    Put it FIRST in the bases: ``class InboxScreen(Guarded, Screen)``.
    """

    async def _dispatch_message(self, message: Message) -> None:  # type: ignore[override]
        try:
            await super()._dispatch_message(message)  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - this IS the last line of defence
            report = getattr(self.app, "report_error", None)  # type: ignore[attr-defined]
            if report is None:
                raise
            report(exc)


# -- formatting ---------------------------------------------------------------------------


def fmt_date(value: date | str | None) -> str:
    """A date as DD-MM-ÅÅÅÅ (Danish order); empty for None (sygesikring_tui.fmt)."""
    return date_text(value)


def fmt_cpr(value: str | None) -> str:
    return format_cpr(value) if value else ""


def training_tag(app: Any) -> str:
    """" · TRÆNING" in training mode (modal dialogs put it in their title), else ""."""
    return f" · {t('app.training')}" if getattr(app, "is_training", False) else ""


def fmt_bool(value: bool) -> str:
    return t("ui.yes") if value else t("ui.no")


def due_marker(due: date | str, status: str, today: date) -> str:
    """The text marker of an open task's due date: I DAG, OVERSKREDET or ''."""
    if status != "open":
        return ""
    if isinstance(due, str):
        due = date.fromisoformat(due)
    if due < today:
        return t("inbox.overdue")
    if due == today:
        return t("inbox.due_today")
    return ""


# -- chrome -------------------------------------------------------------------------------


class AppHeader(Widget):
    """One line: TRÆNING (in text) · app title · screen title, and today's date on the right.
    Rendered from the current width, so a resize needs no update call (and no extra frame)."""

    DEFAULT_CSS = """
    AppHeader { height: 1; width: 100%; background: $primary; color: $text; text-style: bold; }
    """

    def __init__(self, screen_title_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.screen_title_key = screen_title_key

    def render(self) -> Text:
        app = self.app
        parts = [t("app.title"), t(self.screen_title_key)]
        if getattr(app, "is_training", False):
            parts.insert(0, t("app.training"))
        left = " · ".join(parts)
        right = fmt_date(getattr(app, "today", date.today()))
        text = Text(f" {left}", no_wrap=True, overflow="ellipsis")
        pad = self.size.width - text.cell_len - len(right) - 1
        if pad > 0:
            text.append(" " * pad + right)
        return text

    def refresh_texts(self) -> None:
        self.refresh()


class TrainingBanner(Static):
    """A full-width line saying, in words, that this is training data (never colour alone)."""

    DEFAULT_CSS = """
    TrainingBanner { height: 1; width: 100%; background: $warning; color: $background;
                     text-style: bold; content-align: center middle; }
    """

    def on_mount(self) -> None:
        self.display = bool(getattr(self.app, "is_training", False))
        self.refresh_texts()

    def refresh_texts(self) -> None:
        self.update(f"*** {t('app.training_banner')} ***", layout=False)


class KeyBar(Static):
    """The footer: only the few keys that matter on this screen now, with Danish labels.

    ``keys`` is a list of (key as shown, i18n key of the label) or (key as shown, i18n key of
    the label, binding id): then the key the caseworker's keymap gives that binding is shown.
    """

    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; width: 100%; background: $panel; color: $text; }
    """

    def __init__(self, keys: Iterable[tuple[str, ...]] = (), **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self._keys = list(keys)

    def on_mount(self) -> None:
        self.refresh_texts()

    def set_keys(self, keys: Iterable[tuple[str, ...]]) -> None:
        self._keys = list(keys)
        self.refresh_texts()

    def refresh_texts(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        from .keys import shown_key

        for i, (key, label, *binding) in enumerate(self._keys):
            key = shown_key(self.app, binding[0] if binding else None, key)
            if i:
                text.append("  ")
            text.append(f" {key} ", style="reverse bold")
            text.append(f" {t(label)}")
        self.update(text, layout=False)


def refresh_all_texts(node: Any) -> None:
    """Call ``refresh_texts`` on ``node`` and every descendant that has one."""
    for widget in [node, *node.query("*")]:
        fn = getattr(widget, "refresh_texts", None)
        if callable(fn):
            fn()
