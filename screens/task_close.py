"""Closing a task without a wizard ("Luk opgave", key ``l`` in the inbox and on the person
screen): a reason from a short list and a note (required for "other"), committed as a
``task_close`` operation like any other (outbox, sync, history). The rules are the
domain's (``domain.closing``); this module asks and shows."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from sygesikring_tui.domain import closing
from sygesikring_tui.domain.cpr import mask
from sygesikring_tui.domain.model import Task
from sygesikring_tui.domain.operations import NOTE_MAX
from sygesikring_tui.i18n import t

from .choice_lines import ChoiceLines
from .widgets import Guarded, KeyBar, fmt_date, training_tag

if TYPE_CHECKING:
    from .app import SygesikringApp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CloseRequest:
    task_id: str
    reason_code: str
    note: str


def reason_options() -> list[tuple[str, str]]:
    return [(code, t(f"close.reason.{code}")) for code in closing.CLOSE_REASONS]


class CloseTaskDialog(Guarded, ModalScreen[CloseRequest | None]):
    """Which task (when the person has several open), the reason, the note."""

    HELP_KEY = "help.close_task"
    DEFAULT_CSS = """
    CloseTaskDialog { align: center middle; }
    CloseTaskDialog > Vertical { width: 78; max-width: 100%; height: auto; max-height: 100%;
                                 border: thick $warning; background: $surface; padding: 0 1; }
    CloseTaskDialog #close-title { text-style: bold; width: 100%; }
    CloseTaskDialog .close-label { margin: 1 0 0 0; width: 100%; }
    CloseTaskDialog #close-tasks { max-height: 5; }
    CloseTaskDialog #close-note { width: 100%; }
    CloseTaskDialog #close-error { color: $error; text-style: bold; height: auto; padding: 0 1; }
    CloseTaskDialog KeyBar { dock: none; margin: 1 0 0 0; }
    """
    BINDINGS = [
        Binding("escape", "cancel", show=False, id="close_task.cancel"),
        Binding("ctrl+s", "submit", show=False, id="close_task.submit"),
        Binding("f1", "app.help", show=False, id="close_task.help"),  # (a modal stops the app's F1)
    ]

    def __init__(self, tasks: list[Task], current: str | None, event_name: Any) -> None:
        """``tasks``: the open tasks that may be closed (at least one); ``current`` the one
        chosen at first; ``event_name(code)`` names an event."""
        super().__init__()
        self.tasks = tasks
        self.current = current if any(x.id == current for x in tasks) else tasks[0].id
        self._event_name = event_name
        self._error = ""

    def _task_label(self, task: Task) -> str:
        return t("close.task_line", event=f"{task.event_code} {self._event_name(task.event_code)}",
                 due=fmt_date(task.due))

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title(), id="close-title")
            if len(self.tasks) > 1:
                yield Label(t("close.choose_task"), classes="close-label", id="close-tasks-label")
                yield ChoiceLines([(x.id, self._task_label(x)) for x in self.tasks], self.current, id="close-tasks")
            else:
                yield Label(self._task_text(), classes="close-label", id="close-task")
            yield Label(t("close.reason"), classes="close-label", id="close-reason-label")
            yield ChoiceLines(reason_options(), id="close-reasons")
            yield Label(self._note_label(), classes="close-label", id="close-note-label")
            yield Input(placeholder=t("close.note_placeholder"), id="close-note", max_length=NOTE_MAX)
            yield Static("", id="close-error")
            yield KeyBar(self._keys(), id="close-keys")

    def _keys(self) -> list[tuple[str, str]]:
        return [("↑/↓", "close.key.reason"), ("Tab", "close.key.next_field"), ("^s", "close.key.close"),
                ("Esc", "close.key.cancel"), ("F1", "ui.help")]

    def _title(self) -> str:
        return f"{t('close.title')}{training_tag(self.app)}"

    def _task_text(self) -> str:
        return t("close.task", task=self._task_label(self.tasks[0]))

    def _note_label(self) -> str:
        code = self.query_one("#close-reasons", ChoiceLines).value if self.is_mounted else closing.CLOSE_REASONS[0]
        return t("close.note_required" if code in closing.NOTE_REQUIRED else "close.note_optional")

    def on_mount(self) -> None:
        self.query_one("#close-tasks" if len(self.tasks) > 1 else "#close-reasons").focus()

    def refresh_texts(self) -> None:
        self.query_one("#close-title", Label).update(self._title())
        if len(self.tasks) > 1:
            self.query_one("#close-tasks-label", Label).update(t("close.choose_task"))
            self.query_one("#close-tasks", ChoiceLines).set_labels([(x.id, self._task_label(x)) for x in self.tasks])
        else:
            self.query_one("#close-task", Label).update(self._task_text())
        self.query_one("#close-reason-label", Label).update(t("close.reason"))
        self.query_one("#close-reasons", ChoiceLines).set_labels(reason_options())
        self.query_one("#close-note-label", Label).update(self._note_label())
        self.query_one("#close-note", Input).placeholder = t("close.note_placeholder")
        self.query_one("#close-error", Static).update(t(self._error) if self._error else "")

    def on_choice_lines_changed(self, event: ChoiceLines.Changed) -> None:
        if event.lines.id == "close-reasons" and self.is_mounted:
            self.query_one("#close-note-label", Label).update(self._note_label())
            self._show_error("")

    def on_choice_lines_submitted(self, event: ChoiceLines.Submitted) -> None:
        event.stop()
        self.focus_next()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def _show_error(self, code: str) -> None:
        self._error = code
        self.query_one("#close-error", Static).update(t(code) if code else "")

    def action_submit(self) -> None:
        reason = self.query_one("#close-reasons", ChoiceLines).value
        note = self.query_one("#close-note", Input).value.strip()
        problems = closing.close_problems(reason, note)
        if problems:
            self._show_error(problems[0])
            self.query_one("#close-note", Input).focus()
            return
        task_id = self.query_one("#close-tasks", ChoiceLines).value if len(self.tasks) > 1 else self.tasks[0].id
        self.dismiss(CloseRequest(task_id, reason, note))

    def action_cancel(self) -> None:
        self.dismiss(None)


def close_task_flow(app: SygesikringApp, cpr: str, task_id: str | None, *, choose: bool = False) -> None:
    """Ask for the reason and note, then close the task. ``choose`` (the person screen): every
    open task of the person is offered, ``task_id`` chosen at first; otherwise only ``task_id``."""
    state = app.store.load_person(cpr)
    tasks = [x for x in state.open_tasks() if closing.closable(x)] if state is not None else []
    if not choose or len(tasks) <= 1:
        tasks = [x for x in tasks if x.id == task_id] if not choose else tasks
    if not tasks:
        app.notify(t("close.nothing_open"), severity="warning")
        return

    def answered(req: CloseRequest | None) -> None:
        if req is None:
            return
        from sygesikring_tui.store.quick import close_task

        from .quick import committed, run_quick

        if run_quick(app, lambda author: close_task(app.store, cpr, req.task_id, req.reason_code, req.note,
                                                    app.today, author)):
            log.info("task %s of %s closed (%s)", req.task_id, mask(cpr), req.reason_code)
            committed(app, t("close.done"))

    app.push_screen(CloseTaskDialog(tasks, task_id, app.catalogue.event_name), answered)


def task_guide_text(app: SygesikringApp, cpr: str, task_id: str | None) -> str:
    """F1 on a task the guide gives no wizard for: what the guide says about its event (an
    attention point, workarounds that apply only in other circumstances, a retired
    workaround, or nothing: outside the guide) and how to close it. "" when a wizard applies."""
    from sygesikring_tui.releases import live_releases

    state = app.store.load_person(cpr) if task_id else None
    task = state.task(task_id) if state is not None and task_id else None
    if state is None or task is None or not closing.closable(task):
        return ""
    cat = app.catalogue
    live = live_releases()
    g = closing.guidance(cat.suggestion_rules, task, state, app.today, app.store.provider, cat.retired(live))
    if g.kind == "wizard":
        return ""
    event = f"{task.event_code} {cat.event_name(task.event_code)}"
    if g.kind == "attention":
        ap = cat.attention_points.get(g.attention or "")
        body = t("guide.attention", event=event, title=ap.title() if ap else g.attention, text=ap.text() if ap else "")
    elif g.kind in ("conditional", "retired"):
        named = "; ".join(f"{w.id} {w.title()}" for w in (cat.workarounds.get(i) for i in g.workarounds) if w)
        body = t(f"guide.{g.kind}", event=event, workarounds=named)
    else:
        body = t("guide.outside", event=event)
    return f"{t('guide.heading', event=event)}\n\n{body}\n\n{t('guide.close_hint')}"
