"""The desk's view of sync with the server: the status line, the conflict line of the inbox,
and the screen where conflicts and rejected operations are settled.

Everything here reads the desk store on the UI thread (``sync.status`` and ``sync.conflicts``
are a few indexed queries); the background worker itself lives in :mod:`screens.app`.
Every state is said in words (online/offline, counts), never by colour alone.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from sygesikring_tui.store import sync_state  # not sygesikring_tui.sync: that imports httpx
from sygesikring_tui.domain.cpr import mask
from sygesikring_tui.store.sync_state import is_server_error
from sygesikring_tui import i18n
from sygesikring_tui.i18n import t

from .widgets import AppHeader, Guarded, KeyBar, TrainingBanner, fmt_cpr, fmt_date

if TYPE_CHECKING:
    from sygesikring_tui.domain.model import PersonState
    from sygesikring_tui.store.sync_state import ConflictItem, SyncStatus

    from .app import SygesikringApp

log = logging.getLogger(__name__)


# -- texts ------------------------------------------------------------------------------------

def has_text(key: str) -> bool:
    return key in i18n.table(i18n.language()) or key in i18n.table(i18n.DEFAULT)


def fmt_age(seconds: float | None) -> str:
    """An age in words: '40 sek.', '12 min.', '3 t.', '2 d.'."""
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 60:
        return t("sync.age.seconds", n=s)
    if s < 3600:
        return t("sync.age.minutes", n=s // 60)
    if s < 86400:
        return t("sync.age.hours", n=s // 3600)
    return t("sync.age.days", n=s // 86400)


def fmt_when(iso: str | None, today: date | None = None) -> str:
    """A sync time: HH:MM today, else DD-MM HH:MM; 'aldrig' when there was none."""
    if not iso:
        return t("sync.never")
    try:
        ts = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if ts.tzinfo is not None:
        ts = ts.astimezone()
    if today is not None and ts.date() == today:
        return ts.strftime("%H:%M")
    return ts.strftime("%d-%m %H:%M")


def error_words(error: str | None) -> str:
    """The last sync error as a few words (the kind the client reported; never a traceback)."""
    if not error:
        return ""
    kind = error.split(":", 1)[0].strip()
    if kind in ("offline", "server", "auth", "training", "protocol"):
        return t(f"sync.error.{kind}")
    return t("sync.error.other")


def status_text(st: SyncStatus, *, today: date | None = None, configured: bool = True,
                training: bool = False, width: int | None = None) -> str:
    """The status line's words: the state (with the last error in words), operations
    waiting and the age of the oldest, the last sync, conflicts and rejected. Given a
    ``width``, parts that do not fit are left out in this order: a zero rejected count, a
    zero conflict count, the last sync, the age; the state, the waiting count and any
    non-zero count always stay."""
    if training:
        return t("sync.training_never")
    if not configured:
        state = t("sync.no_server")
    elif st.online is None:
        state = t("sync.connecting")
    elif st.online:
        state = t("sync.online")
    else:
        state = t("sync.offline")
    if configured and st.last_error and st.online is not True:
        state += f" ({error_words(st.last_error)})"
    # (key, text, drop rank: 0 = always shown, higher = kept longer)
    parts: list[tuple[str, str, int]] = [("state", state, 0), ("waiting", t("sync.waiting", n=st.waiting), 0)]
    if st.waiting and st.oldest_waiting_age is not None:
        parts.append(("age", t("sync.oldest", age=fmt_age(st.oldest_waiting_age)), 4))
    if configured:
        parts.append(("last", t("sync.last", when=fmt_when(st.last_sync, today)), 3))
    parts.append(("conflicts", t("sync.conflicts_count", n=st.conflicts), 2 if not st.conflicts else 0))
    n_rule = st.rejected - st.server_errors
    parts.append(("rejected", t("sync.rejected_count", n=n_rule), 1 if not n_rule else 0))
    if st.server_errors:
        parts.append(("server_errors", t("sync.server_errors_count", n=st.server_errors), 0))
    if st.token_warning:
        parts.append(("token", t("sync.token_readable"), 0))

    def join(keep: list[tuple[str, str, int]]) -> str:
        out = ""
        for key, text, _rank in keep:
            out += (" " if key == "age" else (" · " if out else "")) + text
        return out

    if width is None:
        return join(parts)
    keep = list(parts)
    dropped: list[tuple[str, str, int]] = []
    for part in sorted((p for p in parts if p[2]), key=lambda p: p[2]):
        if len(join(keep)) <= width:
            break
        keep.remove(part)
        dropped.append(part)
    for part in reversed(dropped):  # something dropped early may fit after a longer one went
        trial = [p for p in parts if p in keep or p == part]
        if len(join(trial)) <= width:
            keep = trial
    return join(keep)


# -- the status line --------------------------------------------------------------------------

class SyncStatusLine(Widget):
    """One line above the key bar (in the flow after a 1fr body, not docked): the state of sync in words. Shown only when the app was
    started with a server (or on a training store started with one: then it says that a
    training store never syncs)."""

    DEFAULT_CSS = """
    SyncStatusLine { height: 1; width: 100%; background: $boost; color: $text; padding: 0 1; }
    SyncStatusLine.-offline { background: $warning 40%; }
    SyncStatusLine.-attention { text-style: bold; }
    """

    def on_mount(self) -> None:
        self.display = bool(getattr(self.app, "sync_visible", False))

    def render(self) -> Text:
        app: Any = self.app
        st = getattr(app, "sync_status", None)
        if st is None:
            return Text("")
        who = app.who_text() if callable(getattr(app, "who_text", None)) else ""
        text = status_text(st, today=getattr(app, "today", None), configured=bool(getattr(app, "server", None)),
                           training=bool(getattr(app, "is_training", False)),
                           width=max(self.content_region.width - (len(who) + 3 if who else 0), 20))
        if who:  # who is signed in, first
            text = f"{who} · {text}"
        self.set_class(st.online is False, "-offline")
        self.set_class(bool(st.conflicts or st.rejected), "-attention")
        return Text(text, no_wrap=True, overflow="ellipsis")

    def refresh_texts(self) -> None:
        self.refresh()


class ConflictLine(Static):
    """The inbox's top line when operations came back refused: how many, and the key."""

    DEFAULT_CSS = """
    ConflictLine { height: 1; width: 100%; background: $error 60%; color: $text; text-style: bold;
                   padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.refresh_texts()

    def refresh_texts(self) -> None:
        st = getattr(self.app, "sync_status", None)
        n_conf = st.conflicts if st else 0
        n_rej = st.rejected if st else 0
        self.display = bool(n_conf or n_rej)
        if self.display:
            counts = [t(key, n=n) for key, n in (("sync.conflicts_n", n_conf), ("sync.rejected_n", n_rej)) if n]
            self.update(t("sync.inbox_line", counts=", ".join(counts)), layout=False)


# -- both versions in words -------------------------------------------------------------------

def _group(state: PersonState | None, today: date) -> str:
    if state is None:
        return "–"
    g = state.current_group(today)
    if g is None:
        return "–"
    from sygesikring_tui.domain.model import GROUPS

    key = f"group.{GROUPS.get(g.group, '')}"
    text = f"{g.group} {t(key)}" if has_text(key) else str(g.group)
    future = [x for x in state.groups if x.effective > today]
    for f in sorted(future, key=lambda x: x.effective):
        text += " " + t("sync.future_group", group=f.group, date=fmt_date(f.effective))
    return text


def _doctor(state: PersonState | None, today: date) -> str:
    if state is None:
        return "–"
    d = state.current_doctor(today)
    if d is None:
        return t("sync.none")
    text = f"{d.practice_name} ({d.provider_number})" if d.provider_number else (d.practice_name or d.status.value)
    future = [x for x in state.doctors if x.effective > today]
    for f in sorted(future, key=lambda x: x.effective):
        text += " " + t("sync.future_doctor", practice=f.practice_name or f.provider_number, date=fmt_date(f.effective))
    return text


def version_rows(local: PersonState | None, server: PersonState | None, today: date) -> list[tuple[str, str, str]]:
    """(fact, desk's version, server's version) rows; facts that differ are marked."""

    def address(s: PersonState | None) -> str:
        if s is None:
            return "–"
        a = s.person.address
        return f"{a.street}, {a.postcode} {a.city}"

    def cards(s: PersonState | None) -> str:
        if s is None:
            return "–"
        if not s.cards:
            return t("sync.none")
        last = max(s.cards, key=lambda c: c.ordered_on)
        return t("sync.cards", n=len(s.cards), status=last.status.value, date=fmt_date(last.ordered_on))

    def tasks(s: PersonState | None) -> str:
        return "–" if s is None else t("sync.open_tasks", n=len(s.open_tasks()))

    def notes(s: PersonState | None) -> str:
        if s is None:
            return "–"
        if not s.notes:
            return t("sync.none")
        return t("sync.notes", n=len(s.notes), last=s.notes[-1].text)

    def version(s: PersonState | None) -> str:
        return "–" if s is None else str(s.version)

    rows = []
    for key, fn in (("sync.fact.version", version), ("sync.fact.group", lambda s: _group(s, today)),
                    ("sync.fact.doctor", lambda s: _doctor(s, today)), ("sync.fact.address", address),
                    ("sync.fact.cards", cards), ("sync.fact.tasks", tasks), ("sync.fact.notes", notes)):
        a, b = fn(local), fn(server)
        label = t(key) + (" *" if a != b else "")
        rows.append((label, a, b))
    return rows


def operation_text(item: ConflictItem) -> str:
    """The refused operation in words, as the wizard's review step said it."""
    from sygesikring_tui.domain.operations import PlannedOp
    from sygesikring_tui.domain.wizards.common import describe

    from .wizards.engine import tr

    states = {item.cpr: s for s in (item.local, item.server) if s is not None}
    try:
        return tr(describe(PlannedOp(item.cpr, item.kind, item.payload), states))
    except Exception:  # noqa: BLE001 - an odd payload still gets a line
        log.warning("cannot describe operation %s of kind %s", item.op_id, item.kind)
        return t("sync.op_kind", kind=item.kind)


def lost_claim(item: ConflictItem) -> dict[str, str] | None:
    """A claim that came back as a conflict because another caseworker holds the task now:
    who and since when (None for any other conflict)."""
    from sygesikring_tui.domain.operations import claim_holder

    if item.kind != "task_claim" or item.server is None:
        return None
    task = item.server.task(str(item.payload.get("task_id")))
    if task is None or task.assignee is None or task.assignee == item.payload.get("claimant"):
        return None
    return claim_holder(task)


def reason_texts(item: ConflictItem) -> list[str]:
    """Why the server refused: rule codes translated (rule.*), a conflict and a blocked
    operation explained."""
    if item.status == "conflict":
        if item.blocked_by:
            return [t("sync.reason.blocked")]
        held = lost_claim(item)
        if held is not None:  # someone else took the task first: whose, since when
            return [t("rule.task_claimed", **held)]
        return [t("sync.reason.conflict")]
    out = []
    for r in item.reasons:
        code = str(r.get("code", ""))
        params = dict(r.get("params") or {})
        if code == "not_found":
            code = "sync.not_found"
        out.append(t(code, **params) if has_text(code) else t("sync.reason.code", code=code))
    return out or [t("sync.reason.unknown")]


def item_label(item: ConflictItem, catalogue: Any) -> str:
    if item.status == "conflict":
        kind = t("sync.kind.conflict")
    else:
        kind = t("sync.kind.server_error") if is_server_error(item) else t("sync.kind.rejected")
    name = (item.server or item.local).person.name if (item.server or item.local) else ""
    wa = item.workaround_id or "–"
    return f"{kind}  {fmt_cpr(item.cpr)} {name} · {wa} · {operation_kind(item.kind)}"


def operation_kind(kind: str) -> str:
    key = f"sync.op.{kind}"
    return t(key) if has_text(key) else kind


def detail(item: ConflictItem, today: date, catalogue: Any) -> RenderableType:
    """The selected item: what was refused, why, and both versions side by side."""
    head = Text()
    wa = catalogue.workarounds.get(item.workaround_id) if item.workaround_id else None
    head.append(t("sync.detail.operation") + " ", style="bold")
    head.append(operation_text(item) + "\n")
    if wa is not None:
        head.append(t("sync.detail.workaround") + " ", style="bold")
        head.append(f"{wa.id} {wa.title()}\n")
    head.append(t("sync.detail.reason") + " ", style="bold")
    head.append(" ".join(reason_texts(item)))
    table = Table(expand=True, box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column(t("sync.detail.fact"), no_wrap=True, width=12, style="bold")
    table.add_column(t("sync.detail.local"), overflow="fold", ratio=1)
    table.add_column(t("sync.detail.server"), overflow="fold", ratio=1)
    for fact, a, b in version_rows(item.local, item.server, today):
        table.add_row(fact, a, b)
    return Group(head, Text(""), table, Text(t("sync.detail.legend"), style="italic"))


# -- the screen -------------------------------------------------------------------------------

class ConflictScreen(Guarded, Screen[None]):
    """Operations the server did not apply: a list on top, the chosen one below with both
    versions; r redoes the wizard on the fresh data, d drops the operation with a note."""

    HELP_KEY = "help.sync"
    TITLE_KEY = "sync.screen.title"
    DEFAULT_CSS = """
    ConflictScreen #conflict-list { height: auto; max-height: 5; border: none; }
    ConflictScreen #conflict-empty { height: auto; padding: 1 1; }
    ConflictScreen #conflict-scroll { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    ConflictScreen #conflict-rule { height: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,backspace", "back", show=False, id="conflicts.back"),
        Binding("r", "redo", show=False, id="conflicts.redo"),
        Binding("d", "drop", show=False, id="conflicts.drop"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[ConflictItem] = []

    @property
    def sapp(self) -> SygesikringApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield AppHeader("sync.screen.title")
        yield TrainingBanner()
        yield OptionList(id="conflict-list")
        yield Static("", id="conflict-empty")
        yield Static("─" * 200, id="conflict-rule")
        with VerticalScroll(id="conflict-scroll"):
            yield Static("", id="conflict-detail")
        yield KeyBar([("r", "sync.key.redo", "conflicts.redo"), ("d", "sync.key.drop", "conflicts.drop"),
                      ("Esc", "ui.back", "conflicts.back"), ("F1", "ui.help", "help"), ("^q", "ui.quit", "quit")],
                     id="keybar")
        yield SyncStatusLine(id="sync-status")

    def on_mount(self) -> None:
        self.load()
        self.query_one("#conflict-list", OptionList).focus()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.load()

    def load(self) -> None:
        ol = self.query_one("#conflict-list", OptionList)
        keep = ol.highlighted or 0
        self.items = sync_state.conflicts(self.sapp.store)
        ol.clear_options()
        for i, item in enumerate(self.items):
            ol.add_option(Option(item_label(item, self.sapp.catalogue), id=str(i)))
        empty = not self.items
        key = "sync.screen.empty_training" if getattr(self.sapp, "is_training", False) else "sync.screen.empty"
        self.query_one("#conflict-empty", Static).update(t(key) if empty else "")
        self.query_one("#conflict-empty", Static).display = empty
        ol.display = not empty
        if self.items:
            ol.highlighted = min(keep, len(self.items) - 1)
        self.show_detail()

    def refresh_texts(self) -> None:
        self.load()

    @property
    def selected(self) -> ConflictItem | None:
        if not self.items:
            return None
        i = self.query_one("#conflict-list", OptionList).highlighted
        return self.items[i] if i is not None and 0 <= i < len(self.items) else None

    def show_detail(self) -> None:
        item = self.selected
        body = self.query_one("#conflict-detail", Static)
        body.update(detail(item, self.sapp.today, self.sapp.catalogue) if item else "")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.show_detail()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_redo(self) -> None:
        item = self.selected
        if item is None:
            return
        self.sapp.redo_conflict(item)

    def action_drop(self) -> None:
        item = self.selected
        if item is None:
            return
        from .dialogs import NoteDialog

        def done(note: str | None) -> None:
            if note:
                self.sapp.drop_conflict(item, note)
                self.load()

        self.app.push_screen(NoteDialog(lambda: t("sync.drop.title"),
                                          lambda: t("sync.drop.prompt", op=operation_text(item))), done)


def wizard_for(item: ConflictItem, app: Any) -> tuple[str | None, str | None]:
    """(wizard key, workaround id) of the wizard that made the refused operation."""
    from .wizards.engine import DRAFT_WIZARD_KEY

    key = None
    if item.case_id:
        case = app.store.case(item.case_id)
        if case is not None:
            key = case.draft.get(DRAFT_WIZARD_KEY)
    wid = item.workaround_id
    if not key and wid and wid in app.catalogue.workarounds:
        key = app.catalogue.workarounds[wid].wizard
    log.info("redo for %s: wizard %s (%s)", mask(item.cpr), key, wid)
    return key, wid
