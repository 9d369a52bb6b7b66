"""Follow-ups: the open ones of every person ("Opfølgninger", key ``o`` in the inbox), due
ones marked in text (I DAG / OVERSKREDET), and ticking one off with a date (key ``a`` here and
on the person screen), committed as a ``followup_done`` operation in the name of the
caseworker signed in — shown, not typed: the server accepts an operation only in the name of
a caseworker signed in on the desk, so a typed name would be refused there."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from sygesikring_tui.domain.cpr import mask
from sygesikring_tui.fmt import parse_date
from sygesikring_tui.i18n import t
from sygesikring_tui.store.followups import OpenFollowUp, open_followups, tick_followup, tick_problems

from .choice_lines import ChoiceLines
from .sync_view import SyncStatusLine
from .widgets import AppHeader, Guarded, KeyBar, TrainingBanner, due_marker, fmt_cpr, fmt_date, training_tag

if TYPE_CHECKING:
    from .app import SygesikringApp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tick:
    followup_id: str
    done: date
    caseworker: str


def followup_label(f: OpenFollowUp, today: date) -> str:
    """One follow-up as a line: marker in text when due, due date, the text."""
    marker = due_marker(f.due, "open", today) if f.due else ""
    due = t("followup.due", date=fmt_date(f.due)) if f.due else t("followup.no_due")
    return " · ".join(x for x in (marker, due, f.text) if x)


class TickFollowupDialog(Guarded, ModalScreen[Tick | None]):
    """Which follow-up (when several) and the date it was done; who ticks it is whoever is
    signed in (shown)."""

    HELP_KEY = "help.followup_tick"
    DEFAULT_CSS = """
    TickFollowupDialog { align: center middle; }
    TickFollowupDialog > Vertical { width: 78; max-width: 100%; height: auto; max-height: 100%;
                                    border: thick $accent; background: $surface; padding: 0 1; }
    TickFollowupDialog #tick-title { text-style: bold; width: 100%; }
    TickFollowupDialog .tick-label { margin: 1 0 0 0; width: 100%; }
    TickFollowupDialog #tick-list { max-height: 6; }
    TickFollowupDialog Input { width: 100%; }
    TickFollowupDialog #tick-who { padding: 0 1; width: 100%; }
    TickFollowupDialog .tick-error { color: $error; text-style: bold; height: auto; padding: 0 1; }
    TickFollowupDialog KeyBar { dock: none; margin: 1 0 0 0; }
    """
    BINDINGS = [
        Binding("escape", "cancel", show=False, id="followup_tick.cancel"),
        Binding("ctrl+s", "submit", show=False, id="followup_tick.submit"),
        Binding("f1", "app.help", show=False, id="followup_tick.help"),  # (a modal stops the app's F1)
    ]

    def __init__(self, followups: list[OpenFollowUp], current: str | None, today: date, caseworker: str) -> None:
        super().__init__()
        self.followups = followups
        self.current = current
        self.today = today
        self.caseworker = caseworker
        self._errors: dict[str, str] = {}

    def _options(self) -> list[tuple[str, str]]:
        return [(f.followup_id, followup_label(f, self.today)) for f in self.followups]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title(), id="tick-title")
            yield Label(t("followup.which"), classes="tick-label", id="tick-which")
            yield ChoiceLines(self._options(), self.current, id="tick-list")
            yield Label(t("followup.done_on"), classes="tick-label", id="tick-date-label")
            yield Input(fmt_date(self.today), id="tick-date", max_length=10)
            yield Static("", classes="tick-error", id="tick-date-error")
            yield Label(t("followup.caseworker"), classes="tick-label", id="tick-who-label")
            yield Static(self.caseworker or "–", id="tick-who")
            yield Static("", classes="tick-error", id="tick-who-error")
            yield KeyBar(self._keys(), id="tick-keys")

    @staticmethod
    def _keys() -> list[tuple[str, str]]:
        return [("Tab", "close.key.next_field"), ("^s", "followup.key.tick"), ("Esc", "close.key.cancel"),
                ("F1", "ui.help")]

    def _title(self) -> str:
        return f"{t('followup.tick_title')}{training_tag(self.app)}"

    def on_mount(self) -> None:
        self.query_one("#tick-list" if len(self.followups) > 1 else "#tick-date").focus()

    def refresh_texts(self) -> None:
        self.query_one("#tick-title", Label).update(self._title())
        self.query_one("#tick-which", Label).update(t("followup.which"))
        self.query_one("#tick-list", ChoiceLines).set_labels(self._options())
        self.query_one("#tick-date-label", Label).update(t("followup.done_on"))
        self.query_one("#tick-who-label", Label).update(t("followup.caseworker"))
        self._show_errors(self._errors)

    def _show_errors(self, errors: dict[str, str]) -> None:
        self._errors = errors
        self.query_one("#tick-date-error", Static).update(t(errors["date"]) if "date" in errors else "")
        self.query_one("#tick-who-error", Static).update(t(errors["caseworker"]) if "caseworker" in errors else "")

    def on_choice_lines_submitted(self, event: ChoiceLines.Submitted) -> None:
        event.stop()
        self.focus_next()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        done = self.query_one("#tick-date", Input).value
        errors = tick_problems(done, self.caseworker, self.today)
        self._show_errors(errors)
        if errors:
            if "date" in errors:
                self.query_one("#tick-date", Input).focus()
            return
        self.dismiss(Tick(self.query_one("#tick-list", ChoiceLines).value, parse_date(done), self.caseworker))

    def action_cancel(self) -> None:
        self.dismiss(None)


def tick_flow(app: SygesikringApp, cpr: str, followups: list[OpenFollowUp], current: str | None = None) -> None:
    """Ask which follow-up and when, then tick it off in the signed-in caseworker's name."""
    if not followups:
        app.notify(t("followup.none_open"), severity="warning")
        return
    from .quick import author, committed, run_quick

    def answered(tick: Tick | None) -> None:
        if tick is None:
            return
        if run_quick(app, lambda _author: tick_followup(app.store, cpr, tick.followup_id, app.today,
                                                         author=tick.caseworker, done=tick.done)):
            log.info("follow-up %s of %s ticked off", tick.followup_id, mask(cpr))
            committed(app, t("followup.ticked"))

    app.push_screen(TickFollowupDialog(followups, current, app.today, author(app)), answered)


def person_open_followups(app: SygesikringApp, cpr: str) -> list[OpenFollowUp]:
    state = app.store.load_person(cpr)
    if state is None:
        return []
    fus = [OpenFollowUp(cpr, state.person.name, f.id, f.text, f.due, f.created)
           for f in state.followups if not f.done]
    return sorted(fus, key=lambda f: (f.due or date.max, f.followup_id))


class FollowupsScreen(Guarded, Screen[None]):
    """Every open follow-up across persons, due date first."""

    HELP_KEY = "help.followups"
    DEFAULT_CSS = """
    FollowupsScreen #followups-count { height: 1; padding: 0 1; text-style: bold; }
    FollowupsScreen #followups-list { height: 1fr; border: none; }
    FollowupsScreen #followups-empty { padding: 1 1; }
    """
    BINDINGS = [
        Binding("escape,backspace", "back", show=False, id="followups.back"),
        Binding("a", "tick", show=False, id="followups.tick"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[OpenFollowUp] = []
        self._loading = True

    @property
    def sapp(self) -> SygesikringApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield AppHeader("followups.title")
        yield TrainingBanner()
        yield Label("", id="followups-count")
        yield OptionList(id="followups-list")
        yield SyncStatusLine(id="sync-status")
        yield KeyBar([("↵", "followups.key.open"), ("a", "followup.key.tick"), ("Esc", "ui.back"),
                      ("F1", "ui.help"), ("^q", "ui.quit")], id="keybar")

    def on_mount(self) -> None:
        self.reload()
        self.query_one(OptionList).focus()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the open follow-ups in a thread (only the persons that have any, by an
        index; still off the UI thread, as a store may be large or busy); the list says it is
        loading meanwhile and the keys keep working."""
        self._loading = True
        self._read(str(self.sapp.store.path))
        self._show_items()

    @work(thread=True, exclusive=True, group="followups", exit_on_error=False)
    def _read(self, path: str) -> None:
        conn = sqlite3.connect(path, timeout=3.0)
        try:
            items = open_followups(conn)
        finally:
            conn.close()
        self.app.call_from_thread(self._loaded, items)

    def _loaded(self, items: list[OpenFollowUp]) -> None:
        self.items = items
        self._loading = False
        if self.is_mounted:
            self._show_items()

    def refresh_texts(self) -> None:
        self._show_items()

    def _show_items(self) -> None:
        today = self.sapp.today
        due = sum(1 for f in self.items if f.is_due(today))
        count = t("followups.loading") if self._loading else t("followups.count", n=len(self.items))
        self.query_one("#followups-count", Label).update(
            count + (" · " + t("followups.due_count", n=due) if due and not self._loading else ""))
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        ol.clear_options()
        if not self.items:
            if not self._loading:
                ol.add_option(Option(t("followups.empty"), id="none", disabled=True))
            return
        for i, f in enumerate(self.items):
            ol.add_option(Option(f"{fmt_cpr(f.cpr)} {f.name} · {followup_label(f, today)}", id=str(i)))
        ol.highlighted = min(keep or 0, len(self.items) - 1)

    def selected(self) -> OpenFollowUp | None:
        ol = self.query_one(OptionList)
        if not self.items or ol.highlighted is None:
            return None
        return self.items[ol.highlighted]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        from .person import PersonScreen

        f = self.selected()
        if f is not None:
            self.app.push_screen(PersonScreen(f.cpr, tab="notes"))

    def action_tick(self) -> None:
        f = self.selected()
        if f is None:
            self.notify(t("followup.none_open"), severity="warning")
            return
        tick_flow(self.sapp, f.cpr, [f], f.followup_id)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

