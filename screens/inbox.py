"""The manual task inbox (opgaveoverblik): a virtual list that stays instant at 100k+ rows.

``InboxList`` is a ``ScrollView`` on Textual's Line API: it renders only the visible lines
(``render_line``), its ``virtual_size`` is the row count, and rendered lines and fetched rows
sit in LRU caches. First paint needs only ``inbox.count`` and one ``inbox.page``. Then a
worker thread reads every task's keys into an :class:`InboxIndex` (its own SQLite
connection), after which search, filter and sort keystrokes are answered from memory (a
full SQLite scan per keystroke is ~0.3 s at 100k). A store too large to index stays on
SQLite, with the full ordered id list (``inbox.ids``) fetched in the background.
"""

from __future__ import annotations

import logging
import sqlite3
from array import array
from dataclasses import dataclass, replace
from datetime import date
from math import ceil
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Self

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Horizontal
from textual.geometry import Region, Size
from textual.message import Message
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState

from sygesikring_tui import i18n
from sygesikring_tui.domain.cpr import mask
from sygesikring_tui.fmt import number_text
from sygesikring_tui.i18n import t
from sygesikring_tui.store import inbox
from sygesikring_tui.domain import cpr
from sygesikring_tui.store.inbox import InboxQuery, parse_search
from sygesikring_tui.store.inbox_index import InboxIndex

from .sync_view import ConflictLine, SyncStatusLine
from .widgets import AppHeader, Guarded, KeyBar, TrainingBanner, due_marker, fmt_cpr, fmt_date

if TYPE_CHECKING:
    from sygesikring_tui.catalogue import Catalogue
    from sygesikring_tui.store import Store

    from .app import SygesikringApp

log = logging.getLogger(__name__)

SORT_CYCLE = ("due", "event", "cpr", "name", "status", "workaround", "received")
STATUS_CHOICES: tuple[str | None, ...] = ("open", "closed", None)
FETCH_BLOCK = 64  # rows fetched per query when a line needs a row not in the cache
INDEX_DELAY = 0.25  # seconds after mount before the in-memory index is read


@dataclass(frozen=True)
class Column:
    key: str  # also the sort key it belongs to
    label: str  # i18n key
    width: int  # fixed width, or the minimum for a flexible column
    weight: int = 0  # share of the spare width (0: fixed)


COLUMNS = (
    Column("due", "inbox.col.due", 10),
    Column("status", "inbox.col.status", 11),
    Column("event", "inbox.col.event", 10, 4),
    Column("cpr", "inbox.col.cpr", 11),
    Column("name", "inbox.col.name", 11, 3),
    # "2.7.3 Genfinding": a section and its short name (<= 10 characters) fit at 80 columns
    Column("workaround", "inbox.col.workaround", 16, 2),
    Column("assignee", "inbox.col.assignee", 3),  # who took the task (initials; 3 fit at 80 columns)
)


def layout(width: int) -> list[int]:
    """Column widths for a line of ``width`` cells (one space between columns)."""
    fixed = sum(c.width for c in COLUMNS) + len(COLUMNS) - 1
    spare = max(0, width - fixed)
    weights = sum(c.weight for c in COLUMNS)
    widths = [c.width + (spare * c.weight // weights if c.weight else 0) for c in COLUMNS]
    # Give rounding leftovers to the name column.
    widths[4] += max(0, width - (sum(widths) + len(COLUMNS) - 1))
    return widths


def fit(text: str, width: int) -> str:
    """``text`` cut (with …) or padded to exactly ``width`` cells."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    return set_cell_size(text, width)


def _bar_look(bar: ScrollBar) -> list[Segment]:
    """What ``bar`` draws (the segments of its thumb and track), as ``ScrollBar`` renders it."""
    virtual, window = bar.window_virtual_size, bar.window_size
    return bar.renderer.render_bar(size=bar.size.height, virtual_size=ceil(virtual),
                                   window_size=ceil(window if window < virtual else 0), position=bar.position,
                                   thickness=bar.thickness, vertical=bar.vertical).segments


class InboxList(Guarded, ScrollView, can_focus=True):
    """The virtual task list. Line 0 is the column header; rows follow."""

    COMPONENT_CLASSES = {"inbox--header", "inbox--cursor", "inbox--due", "inbox--closed", "inbox--row"}
    DEFAULT_CSS = """
    InboxList { height: 1fr; scrollbar-size-vertical: 1; scrollbar-size-horizontal: 0;
                overflow-x: hidden; overflow-y: scroll; }
    InboxList > .inbox--header { text-style: bold; background: $panel; }
    InboxList > .inbox--cursor { background: $accent; color: $text; text-style: bold; }
    InboxList:blur > .inbox--cursor { background: $accent 50%; }
    InboxList > .inbox--due { color: $warning; text-style: bold; }
    InboxList > .inbox--closed { color: $text-muted; }
    """
    BINDINGS = [
        Binding("up,k", "cursor(-1)", show=False, id="inbox.list.up"),
        Binding("down,j", "cursor(1)", show=False, id="inbox.list.down"),
        Binding("pageup", "page(-1)", show=False, id="inbox.list.page_up"),
        Binding("pagedown", "page(1)", show=False, id="inbox.list.page_down"),
        Binding("g,home", "top", show=False, id="inbox.list.top"),
        Binding("G,end", "bottom", show=False, id="inbox.list.bottom"),
        Binding("enter", "select", show=False, id="inbox.open"),
    ]

    class Selected(Message):
        """Enter on a row."""

        def __init__(self, row: dict[str, Any]) -> None:
            super().__init__()
            self.row = row

    class CountChanged(Message):
        def __init__(self, total: int) -> None:
            super().__init__()
            self.total = total

    def __init__(self, store: Store, catalogue: Catalogue, today: date, query: InboxQuery | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.catalogue = catalogue
        self.today = today
        self.query_ = query or InboxQuery()
        self.total = 0
        self.total_known = True  # False: only the first page is known (the count follows)
        self.cursor = 0
        self.ids: array | None = None  # SQL path: the ordered row ids, once fetched
        self.index: InboxIndex | None = None  # the in-memory index, once loaded
        self._index_state = "loading"  # loading | ready | none (too large: SQL only)
        self._index_signature: tuple[int, int] = (0, 0)
        self._query_signature: tuple[int, int] = (0, 0)
        self._positions: array | None = None  # index path: matching positions in order
        self._gen = 0
        self._rows: LRUCache[int, dict[str, Any]] = LRUCache(4096)
        # Index path: rows read through from SQLite by rid, kept across queries (a search
        # keystroke shows mostly rows seen before); cleared when the store changes.
        self._by_rid: LRUCache[int, dict[str, Any]] = LRUCache(2048)
        self._lines: LRUCache[tuple[Any, ...], Strip] = LRUCache(1024)
        self._painted: dict[int, tuple[Any, ...]] = {}  # view line -> the key of what it shows
        self._wa_labels: dict[str | None, str] = {}
        self._styles: dict[tuple[str, bool], Style] = {}
        self.drafts: frozenset[str] = frozenset()  # task ids with a wizard draft ("Kladde")

    # -- data ---------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._read_drafts()
        self.set_query(self.query_)  # first paint: count + one page, from SQLite
        signature = self._store_signature()
        # Start reading the index only once the first page is on screen: its thread holds
        # the GIL while it builds Python objects, which would delay the first frames. Until
        # it is ready (~1 s at 100k), keystrokes are answered by SQLite.
        if INDEX_DELAY > 0:
            self.set_timer(INDEX_DELAY, lambda: self._load_index(signature))
        else:  # tests: at once (a zero timer is not allowed)
            self.call_after_refresh(self._load_index, signature)

    def _store_signature(self) -> tuple[int, int]:
        """Changes to the store since a moment: our own writes (total_changes, e.g. a wizard
        commit) and other connections' (data_version)."""
        conn = self.store.conn
        return (conn.total_changes, conn.execute("PRAGMA data_version").fetchone()[0])

    def set_query(self, query: InboxQuery, keep_cursor: bool = False) -> None:
        """Apply ``query`` and repaint: from the in-memory index once it is loaded, else from
        SQLite (count + the visible page; the id list follows in the background)."""
        previous = (self.query_, self._positions) if self._positions is not None else None
        self._query_signature = self._store_signature()
        self.query_ = query
        self._gen += 1
        self._rows.clear()  # (rendered lines are keyed by task, not by position: they stay)
        if keep_cursor:
            start = max(0, int(self.scroll_y))
        else:
            start = 0
        self.total_known = True
        if self.index is not None:
            self._positions = self.index.select(query, previous)
            self.ids = None
            self.total = len(self._positions)
        else:
            self._positions = None
            self.ids = None
            # At mount the list has no size yet: the terminal's height is enough rows.
            want = max(self.visible_rows, self.app.size.height) + 1
            page = inbox.page(self.store, query, start, want)
            for i, row in enumerate(page):
                self._rows[start + i] = row
            if start == 0 and len(page) == want:
                # No COUNT before the first paint (over 1M rows it alone took 0.1 s): the
                # index or the id list, read in the background, brings the exact count.
                self.total = len(page)
                self.total_known = False
            else:
                self.total = len(page) if start == 0 else inbox.count(self.store, query)
        self.cursor = min(self.cursor, max(self.total - 1, 0)) if keep_cursor else 0
        self._set_rows(self.total)
        if not keep_cursor:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self._refresh_changed_lines()
        self._count_changed()
        if self.index is None and self._index_state == "none":
            self._load_ids(query, self._gen)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed background read is logged; the inbox then stays on SQLite."""
        if event.state != WorkerState.ERROR:
            return
        err = event.worker.error
        log.error("inbox background read %s failed: %s", event.worker.group, type(err).__name__,
                  exc_info=(type(err), err, err.__traceback__) if err else None)
        if event.worker.group == "inbox-index":
            self._index_state = "none"
            self.index = None
            self._load_ids(self.query_, self._gen)

    def _count_changed(self) -> None:
        """Tell the screen the new count now, in the same frame as the rows (a message would
        cost one more frame per keystroke)."""
        show = getattr(self.parent, "show_count", None)
        if callable(show):
            show(self.total)
        else:
            self.post_message(self.CountChanged(self.total))

    def _set_rows(self, rows: int) -> None:
        """Set the virtual height to ``rows`` + the header line WITHOUT a screen layout: the
        vertical scrollbar is always shown (overflow-y: scroll), so only it needs updating.
        A layout per keystroke would cost more than the whole query. The scrollbar is
        repainted only if it looks different: over a few hundred rows its thumb is one cell
        at the top whatever the count, and repainting it cost ~2 ms of every keystroke."""
        size = Size(self.size.width, rows + 1)
        if size == self.virtual_size:
            return
        self.set_reactive(InboxList.virtual_size, size)
        if self.show_vertical_scrollbar:
            bar = self.vertical_scrollbar
            before = _bar_look(bar)
            bar.set_reactive(ScrollBar.window_virtual_size, size.height)
            bar.set_reactive(ScrollBar.window_size, self.container_size.height - self.scrollbar_size_horizontal)
            if _bar_look(bar) != before:
                bar.refresh()
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        # The list keeps its own virtual size (rows + header). The layout pass offers one
        # computed from the content (79 wide, viewport high), which differs every time and
        # would refresh the scrollbar, i.e. cost one more frame per keystroke.
        return super()._size_updated(size, self.virtual_size, container_size, layout)

    def reload_if_changed(self) -> None:
        """Back on screen (from a person, a wizard or a dialog): re-read only if the store changed."""
        if self._store_signature() != self._query_signature:
            self.reload()

    def _read_drafts(self) -> None:
        from sygesikring_tui.drafts import draft_task_ids

        self.drafts = draft_task_ids(self.store)

    def reload(self) -> None:
        """Re-read after a change (a wizard closed a task): keep the position."""
        self._read_drafts()
        self._by_rid.clear()
        self._lines.clear()
        self._painted.clear()  # the same tasks may now read differently: repaint every line
        if self.index is not None and self._store_signature() != self._index_signature:
            self.index = None  # stale: SQLite answers until the new index is loaded
            self._load_index(self._store_signature())
        self.set_query(self.query_, keep_cursor=True)

    @work(thread=True, exclusive=True, group="inbox-index", exit_on_error=False)
    def _load_index(self, signature: tuple[int, int]) -> None:
        self._index_state = "loading"
        index = InboxIndex.load(self.store.path)
        self.app.call_from_thread(self._index_loaded, index, signature)
        if index is not None:
            index.warm()  # every sort order, still in this thread

    def _index_loaded(self, index: InboxIndex | None, signature: tuple[int, int]) -> None:
        if index is None:  # too large to keep in memory: stay on SQL, fetch the id list
            self._index_state = "none"
            self._load_ids(self.query_, self._gen)
            return
        self._index_state = "ready"
        self.index = index
        self._index_signature = signature
        settled = getattr(self.app, "settled", None)
        if callable(settled):
            settled()
        positions = index.select(self.query_)
        if len(positions) != self.total or not self.total_known:  # count unknown, or the store changed
            self._painted.clear()  # (rows read before may differ from the index's: repaint all)
            self.set_query(self.query_, keep_cursor=True)
        else:
            self._positions = positions
            self._rows.clear()

    @work(thread=True, exclusive=True, group="inbox-ids", exit_on_error=False)
    def _load_ids(self, query: InboxQuery, gen: int) -> None:
        conn = sqlite3.connect(self.store.path, timeout=3.0)
        try:
            result = inbox.ids(SimpleNamespace(conn=conn), query)  # type: ignore[arg-type]
        finally:
            conn.close()
        self.app.call_from_thread(self._ids_loaded, result, gen)

    def _ids_loaded(self, result: array, gen: int) -> None:
        if gen != self._gen:
            return  # a newer query replaced this one
        self.ids = result
        if len(result) != self.total or not self.total_known:  # the count, or the store changed
            self.total = len(result)
            self.total_known = True
            self._rows.clear()
            self._lines.clear()
            self._set_rows(self.total)
            self.cursor = min(self.cursor, max(self.total - 1, 0))
            self.refresh()
            self._count_changed()

    def row_at(self, index: int) -> dict[str, Any] | None:
        if not 0 <= index < self.total:
            return None
        row = self._rows.get(index)
        if row is not None:
            return row
        start = index - index % FETCH_BLOCK
        if self._positions is not None and self.index is not None:
            # Only the rows on screen from here down (a keystroke needs ~20, not a block of 64).
            start = index
            rids = self.index.rids(self._positions[start:start + max(self.visible_rows, 1)])
            cached = self._by_rid
            missing = [rid for rid in rids if rid not in cached]
            for rid, r in inbox.rows(self.store, missing).items():
                cached[rid] = r
            for i, rid in enumerate(rids):
                r = cached.get(rid)
                if r is not None:
                    self._rows[start + i] = r
        elif self.ids is not None:
            rids = list(self.ids[start:start + FETCH_BLOCK])
            by_rid = inbox.rows(self.store, rids)
            for i, rid in enumerate(rids):
                r = by_rid.get(rid)
                if r is not None:
                    self._rows[start + i] = r
        else:
            for i, r in enumerate(inbox.page(self.store, self.query_, start, FETCH_BLOCK)):
                self._rows[start + i] = r
        return self._rows.get(index)

    def count_for(self, query: InboxQuery) -> int:
        """How many tasks ``query`` matches (from the index once it is loaded)."""
        if self.index is not None:
            return self.index.count(query)
        return inbox.count(self.store, query)

    @property
    def selected(self) -> dict[str, Any] | None:
        return self.row_at(self.cursor)

    # -- geometry -----------------------------------------------------------------------
    @property
    def visible_rows(self) -> int:
        """Rows that fit under the header line."""
        return max(self.scrollable_content_region.height - 1, 0)

    def on_resize(self, event: events.Resize) -> None:
        self._lines.clear()
        self._set_rows(self.total)
        self._scroll_cursor_into_view()

    # -- rendering ----------------------------------------------------------------------
    def invalidate(self) -> None:
        """Drop rendered lines (language switch, style change)."""
        self._lines.clear()
        self._wa_labels.clear()
        self.refresh()

    def refresh_texts(self) -> None:
        self.invalidate()

    def _line_key(self, y: int, width: int) -> tuple[Any, ...]:
        """What line ``y`` of the view shows: equal keys draw equal lines."""
        if y == 0:
            q = self.query_
            return ("header", width, q.sort, q.descending, i18n.language())
        index = int(self.scroll_y) + y - 1
        row = self.row_at(index) if index < self.total else None
        if row is None:
            return ("blank", width)
        # Keyed by task: a search keystroke or a backspace shows mostly tasks drawn before.
        # Focus shows on the cursor row only (see _refresh_cursor_line).
        is_cursor = index == self.cursor
        return (row["rid"], width, is_cursor, is_cursor and self.has_focus, self.query_.sort == "received",
                row["id"] in self.drafts)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        key = self._line_key(y, width)
        self._painted[y] = key
        if key[0] == "blank":
            return Strip.blank(width, self.rich_style)
        strip = self._lines.get(key)
        if strip is None:
            if y == 0:
                strip = self._header_line(width)
            else:
                index = int(self.scroll_y) + y - 1
                strip = self._row_line(self.row_at(index), width, key[2])  # type: ignore[arg-type]
            self._lines[key] = strip
        return strip

    def _refresh_changed_lines(self) -> None:
        """Repaint only the lines whose content changed since they were drawn (a search
        keystroke often keeps most of the first page: redrawing those lines would cost
        Textual's styling and compositing of each again). A scroll repaints everything itself."""
        region = self.scrollable_content_region
        if not self._painted:
            self.refresh()
            return
        width = region.width
        run_start = None
        for y in range(region.height + 1):
            changed = y < region.height and self._line_key(y, width) != self._painted.get(y)
            if changed and run_start is None:
                run_start = y
            elif not changed and run_start is not None:
                self.refresh(Region(0, run_start, width, y - run_start))
                run_start = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}
        lines = getattr(self, "_lines", None)  # (called during __init__ too)
        if lines is not None:
            lines.clear()

    def _style(self, component: str) -> Style:
        """A component's style (with focus state), computed once: ``get_component_rich_style``
        and ``rich_style`` walk the CSS each call, which was a third of a row's drawing."""
        key = (component, self.has_focus)
        got = self._styles.get(key)
        if got is None:
            got = self._styles[key] = self.rich_style if component == "" else self.get_component_rich_style(component)
        return got

    def _header_line(self, width: int) -> Strip:
        style = self.get_component_rich_style("inbox--header")
        cells = []
        by_received = self.query_.sort == "received"  # then the first column shows that date
        sorted_col = "due" if by_received else self.query_.sort
        for col, w in zip(COLUMNS, layout(width)):
            label = t("inbox.col.received" if by_received and col.key == "due" else col.label)
            if col.key == sorted_col:
                label += " ▼" if self.query_.descending else " ▲"
            cells.append(fit(label, w))
        return Strip([Segment(fit(" ".join(cells), width), style)], width)

    def _workaround_label(self, wid: str | None, draft: bool = False) -> str:
        label = self._wa_labels.get(wid)
        if label is None:
            # a workaround, or an attention point whose check is the solution (040: AP4)
            w = (self.catalogue.workarounds.get(wid) or self.catalogue.attention_points.get(wid)) if wid else None
            label = f"{w.id} {w.short()}" if w else (wid or t("inbox.no_workaround"))
            self._wa_labels[wid] = label
        # A task with a wizard draft says so in text, first (the column is cut at 80 wide).
        return f"{t('draft.marker')} {label}" if draft else label

    def row_texts(self, row: dict[str, Any]) -> list[str]:
        status = row["status"]
        marker = due_marker(row["due"], status, self.today)
        status_text = marker or t(f"status.{status}")
        return [
            # sorted by received: the first column shows the received date, not the due date
            fmt_date(row["received"] if self.query_.sort == "received" else row["due"]),
            status_text,
            f"{row['event_code']} {self.catalogue.event_name(row['event_code'])}",
            fmt_cpr(row["cpr"]),
            row["name"],
            self._workaround_label(row["workaround_id"], row["id"] in self.drafts),
            row.get("assignee") or "",
        ]

    def _row_line(self, row: dict[str, Any], width: int, is_cursor: bool) -> Strip:
        texts = self.row_texts(row)
        widths = layout(width)
        base = self._style("")
        if is_cursor:
            style = base + self._style("inbox--cursor")
        elif row["status"] != "open":
            style = base + self._style("inbox--closed")
        else:
            style = base
        urgent = bool(due_marker(row["due"], row["status"], self.today))
        due_style = style + self._style("inbox--due") if urgent and not is_cursor else style
        if urgent and is_cursor:
            due_style = style + Style(bold=True, underline=True)
        # The cells as runs of one style (1 segment for most rows, 4 for an urgent one, not
        # 14): every segment costs again in Textual's line styling, filters and compositor.
        cells = [fit(text, w) for text, w in zip(texts, widths)]
        used = sum(widths) + len(widths) - 1
        if used < width:
            cells[-1] += " " * (width - used)
        if due_style == style:
            segments = [Segment(" ".join(cells), style)]
        else:
            segments = [Segment(cells[0], due_style), Segment(" ", style), Segment(cells[1], due_style),
                        Segment(" " + " ".join(cells[2:]), style)]
        return Strip(segments).crop(0, width)

    # -- navigation ---------------------------------------------------------------------
    def move_to(self, index: int) -> None:
        if self.total == 0:
            self.cursor = 0
            self.refresh()
            return
        index = max(0, min(index, self.total - 1))
        if index == self.cursor:
            return
        old = self.cursor
        self.cursor = index
        if not self._scroll_cursor_into_view():
            top = int(self.scroll_y)
            for i in (old, index):
                if top <= i < top + self.visible_rows:
                    self.refresh_line(i + 1)  # (a line of the virtual list: row i is under the header)

    def _scroll_cursor_into_view(self) -> bool:
        """Scroll so the cursor row is visible; True if it scrolled."""
        top = int(self.scroll_y)
        rows = max(self.visible_rows, 1)
        new_top = top
        if self.cursor < top:
            new_top = self.cursor
        elif self.cursor >= top + rows:
            new_top = self.cursor - rows + 1
        if new_top != top:
            self.scroll_to(y=new_top, animate=False, immediate=True)
            self.refresh()
            return True
        return False

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(self.visible_rows - 1, 1))

    def action_top(self) -> None:
        self.move_to(0)

    def action_bottom(self) -> None:
        self.move_to(self.total - 1)

    def action_select(self) -> None:
        row = self.selected
        if row is not None:
            self.post_message(self.Selected(row))

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.move_to(int(self.scroll_y) + event.y - 1)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        # Mouse wheel scrolling moves the view; keep the cursor on a visible row.
        top = int(new)
        rows = max(self.visible_rows, 1)
        if not (top <= self.cursor < top + rows) and self.total:
            self.cursor = max(0, min(self.total - 1, max(top, min(self.cursor, top + rows - 1))))

    def on_focus(self) -> None:
        self._refresh_cursor_line()

    def on_blur(self) -> None:
        self._refresh_cursor_line()

    def _refresh_cursor_line(self) -> None:
        """Focus changes only the cursor row's style: repaint that line, not the list."""
        top = int(self.scroll_y)
        if top <= self.cursor < top + self.visible_rows:
            self.refresh_line(self.cursor + 1)


class SearchInput(Guarded, Input):
    """The search field: CPR digits or part of a name; Enter or Down goes back to the list."""

    DEFAULT_CSS = """
    SearchInput { border: none; height: 1; width: 1fr; padding: 0 1; background: $boost; }
    SearchInput:focus { border: none; background: $accent 30%; }
    """
    BINDINGS = [Binding("down", "app.focus('inbox-list')", show=False, id="inbox.search.to_list"),
                Binding("escape", "leave", show=False, id="inbox.search.clear")]

    _typed = False  # a new value is being applied (between validate_value and watch_value)

    def action_leave(self) -> None:
        if self.value:
            self.value = ""
        else:
            self.screen.query_one(InboxList).focus()

    def validate_value(self, value: str) -> str:
        self._typed = value != self.value
        return value

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        """A typed letter changes Input's virtual width, which asks for a layout of the whole
        screen (~2 ms of the keystroke); the field's own size never follows its text (one
        line, 1fr wide), so that layout is skipped. Any other layout request passes."""
        return super().refresh(*regions, repaint=repaint, layout=layout and not self._typed, recompose=recompose)

    def watch_value(self, value: str) -> None:
        """Filter the list in the same frame as the typed letter (handling ``Input.Changed``
        instead would cost one more frame per keystroke)."""
        self._typed = False
        search = getattr(self.screen, "search_changed", None)
        if callable(search) and self.is_mounted:
            search(value)


FILTER_FIELDS = ("status", "event_code", "workaround_id", "assignee")


class FilterBar(Guarded, Widget, can_focus=True):
    """The filter line under the search field, edited in place (no dialog: closing a modal
    screen repaints the whole screen, ~6x a keystroke's frame). ``f`` focuses it; ←/→ pick
    status, event or workaround, ↑/↓ step through that field's values and the list follows at
    once; Enter, Esc or ``f`` go back to the list."""

    COMPONENT_CLASSES = {"filterbar--field"}
    DEFAULT_CSS = """
    FilterBar { height: 1; padding: 0 1; color: $text-muted; }
    FilterBar:focus { color: $text; background: $boost; }
    FilterBar > .filterbar--field { background: $accent; color: $text; text-style: bold; }
    """
    BINDINGS = [
        Binding("left,h", "field(-1)", show=False, id="inbox.filter.previous_field"),
        Binding("right,l", "field(1)", show=False, id="inbox.filter.next_field"),
        Binding("up,k", "value(-1)", show=False, id="inbox.filter.previous_value"),
        Binding("down,j", "value(1)", show=False, id="inbox.filter.next_value"),
        Binding("enter,escape,f", "leave", show=False, id="inbox.filter.leave"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.field = 0  # index in FILTER_FIELDS

    @property
    def inbox(self) -> InboxScreen:
        return self.screen  # type: ignore[return-value]

    def render(self) -> Text:
        screen = self.inbox
        q = screen.inbox_list.query_
        focused = self.has_focus
        text = Text(no_wrap=True, overflow="ellipsis")
        labels = (t("inbox.col.status"), t("inbox.col.event"), t("inbox.col.workaround"), t("inbox.col.assignee"))
        for i, (field, label) in enumerate(zip(FILTER_FIELDS, labels)):
            if i:
                text.append(" · ")
            text.append(f"{label}: ")
            value = getattr(q, field)
            if focused and i == self.field:
                shown = dict(screen.filter_choices(field)).get(value, str(value))
                text.append(f" {shown} ", style=self.get_component_rich_style("filterbar--field"))
            else:
                text.append(screen.filter_value_text(field, value))
        text.append(f" · {t('inbox.filter.sort')}: {screen.sort_text()}")
        return text

    def action_field(self, delta: int) -> None:
        self.field = (self.field + delta) % len(FILTER_FIELDS)
        self.refresh()

    def action_value(self, delta: int) -> None:
        field = FILTER_FIELDS[self.field]
        choices = [v for v, _label in self.inbox.filter_choices(field)]
        current = getattr(self.inbox.inbox_list.query_, field)
        i = choices.index(current) if current in choices else 0
        self.inbox.set_filter(field, choices[(i + delta) % len(choices)])

    def action_leave(self) -> None:
        self.inbox.inbox_list.focus()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


class InboxScreen(Guarded, Screen[None]):
    HELP_KEY = "help.inbox"
    AUTO_FOCUS = "#inbox-list"
    DEFAULT_CSS = """
    InboxScreen #search-bar { height: 1; }
    InboxScreen #search-label { width: auto; padding: 0 1; }
    InboxScreen #count { width: 20; padding: 0 1; text-style: bold; text-align: right; }
    InboxScreen #search-note { display: none; height: auto; max-height: 2; padding: 0 1; color: $warning; }
    InboxScreen #search-note.-shown { display: block; }
    """
    BINDINGS = [
        Binding("slash", "focus_search", show=False, id="inbox.search"),
        Binding("f", "filter", show=False, id="inbox.filter"),
        Binding("x", "clear_filters", show=False, id="inbox.clear_filters"),
        Binding("s", "sort", show=False, id="inbox.sort"),
        Binding("S", "reverse", show=False, id="inbox.reverse"),
        Binding("w", "wizard", show=False, id="inbox.wizard"),
        Binding("r", "reload", show=False, id="inbox.reload"),
        Binding("c", "conflicts", show=False, id="inbox.conflicts"),
        Binding("R", "app.open_report", show=False, id="inbox.report"),
        Binding("ctrl+o", "all_statuses", show=False, id="inbox.all_statuses"),
        Binding("l", "close_task", show=False, id="inbox.close_task"),
        Binding("o", "followups", show=False, id="inbox.followups"),
        Binding("d", "discard_draft", show=False, id="inbox.discard_draft"),
        Binding("t", "app.claim_task", show=False, id="inbox.claim"),
        Binding("T", "app.release_task", show=False, id="inbox.release"),
        Binding("v", "app.reassign_task", show=False, id="inbox.reassign"),
        Binding("m", "claim_filter", show=False, id="inbox.claim_filter"),
    ]

    def __init__(self, query: InboxQuery | None = None) -> None:
        super().__init__()
        self._initial_query = query or InboxQuery()
        self._shown: dict[str, str] = {}  # selector -> the text it shows

    @property
    def sapp(self) -> SygesikringApp:
        return self.app  # type: ignore[return-value]

    def help_key(self) -> str:
        """F1 explains the filter line while it is being edited, else the inbox."""
        return "help.filter_bar" if isinstance(self.focused, FilterBar) else self.HELP_KEY

    def help_text(self) -> str:
        """On a task the guide has no wizard for: what the guide says first, then the inbox help."""
        from .task_close import task_guide_text

        if self.help_key() != self.HELP_KEY:
            return t(self.help_key())
        row = self.inbox_list.selected if isinstance(self.focused, InboxList) else None
        guide = task_guide_text(self.sapp, row["cpr"], row["id"]) if row else ""
        return "\n\n".join(x for x in (guide, t(self.HELP_KEY), t("help.inbox.daily")) if x)

    def compose(self) -> ComposeResult:
        yield AppHeader("inbox.title")
        yield TrainingBanner()
        yield ConflictLine(id="conflict-line")
        with Horizontal(id="search-bar"):
            yield Label(t("inbox.search"), id="search-label")
            yield SearchInput(placeholder=t("inbox.search_placeholder"), id="search",
                              select_on_focus=False)
            yield Label("", id="count")
        yield Static("", id="search-note")  # a bad CPR number, or why nothing was found
        yield FilterBar(id="filter-bar")
        yield InboxList(self.sapp.store, self.sapp.catalogue, self.sapp.today, self._initial_query, id="inbox-list")
        yield SyncStatusLine(id="sync-status")
        yield KeyBar(self._keys(), id="keybar")

    def on_mount(self) -> None:
        self.query_one(SearchInput).cursor_blink = self.sapp.cursor_blink
        self._update_filter_bar()
        self._update_count(self.inbox_list.total)

    def on_screen_resume(self) -> None:
        # Back from a person screen or a wizard: the store may have changed.
        lst = self.query_one(InboxList)
        if lst.is_mounted:
            lst.reload_if_changed()
        refresh = getattr(self.app, "refresh_sync_status", None)
        if callable(refresh):
            refresh()

    def _keys(self, searching: bool = False, filtering: bool = False) -> list[tuple[str, ...]]:
        if filtering:
            return [("←/→", "inbox.filter.key.field"), ("↑/↓", "inbox.filter.key.value"),
                    ("↵/Esc", "inbox.key.to_list"), ("x", "inbox.filter.key.clear", "inbox.clear_filters"),
                    ("F1", "ui.help", "help")]
        if searching:
            return [("↵/↓", "inbox.key.to_list"), ("Esc", "inbox.key.clear_search", "inbox.search.clear"),
                    ("F1", "ui.help", "help"), ("^q", "ui.quit", "quit")]
        return [("↵", "inbox.key.open", "inbox.open"), ("w", "inbox.key.wizard", "inbox.wizard"),
                ("l", "inbox.key.close", "inbox.close_task"), ("/", "inbox.key.search", "inbox.search"),
                ("f", "inbox.key.filter", "inbox.filter"), ("o", "inbox.key.followups", "inbox.followups"),
                ("F1", "ui.help", "help")]

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.query_one(KeyBar).set_keys(self._keys(searching=isinstance(event.widget, SearchInput),
                                                   filtering=isinstance(event.widget, FilterBar)))

    @property
    def inbox_list(self) -> InboxList:
        return self.query_one(InboxList)

    # -- texts --------------------------------------------------------------------------
    def refresh_texts(self) -> None:
        self.query_one("#search-label", Label).update(t("inbox.search"))
        self.query_one(SearchInput).placeholder = t("inbox.search_placeholder")
        self._update_count(self.inbox_list.total)
        self._update_filter_bar()
        self._update_note()

    def show_count(self, total: int) -> None:
        if self.is_mounted:
            self._update_count(total)
            self._update_note()

    def _update_count(self, total: int) -> None:
        known = self.inbox_list.total_known
        self._show("#count", t("inbox.count", n=number_text(total) if known else "…"))

    def on_inbox_list_count_changed(self, message: InboxList.CountChanged) -> None:
        self._update_count(message.total)

    def _update_filter_bar(self) -> None:
        self.query_one(FilterBar).refresh()

    def filter_value_text(self, field: str, value: Any) -> str:
        """A filter value as the bar shows it when it is not being edited (short: codes)."""
        if field == "status":
            return t(f"status.{value}") if value else t("inbox.all")
        if field == "workaround_id" and value == "none":
            return t("inbox.no_workaround")
        if field == "assignee":
            return self._claim_label(value)
        return value or t("inbox.all")

    def _claim_label(self, value: str | None) -> str:
        if value is None:
            return t("inbox.all")
        if value == "none":
            return t("inbox.claim.free")
        return t("inbox.claim.mine") if value == self.sapp.author else value

    def filter_choices(self, field: str) -> list[tuple[Any, str]]:
        """The values ↑/↓ step through in the filter bar, with their full labels."""
        cat = self.sapp.catalogue
        if field == "status":
            return [(s, t(f"status.{s}") if s else t("inbox.all")) for s in STATUS_CHOICES]
        if field == "assignee":
            mine = self.sapp.author
            return [(v, self._claim_label(v)) for v in ((None, mine, "none") if mine else (None, "none"))]
        if field == "event_code":
            index = self.inbox_list.index
            codes = index.values["event_code"] if index is not None else inbox.event_codes(self.sapp.store)
            return [(None, t("inbox.all"))] + [(code, f"{code} {cat.event_name(code)}") for code in codes]
        return [(None, t("inbox.all")), ("none", t("inbox.no_workaround"))] + [
            (w.id, f"{w.id} {w.title()}") for w in sorted(cat.workarounds.values(),
                                                            key=lambda w: [int(x) for x in w.id.split(".")])]

    def sort_text(self) -> str:
        q = self.inbox_list.query_
        col = next((c for c in COLUMNS if c.key == q.sort), None)
        label = t(col.label) if col else t(f"inbox.sort.{q.sort}")
        return f"{label} {'▼' if q.descending else '▲'}"

    def _show(self, selector: str, text: str) -> None:
        """Update a one-line text only if it changed (a search keystroke changes the count,
        not the filter line: repainting it would cost part of the keystroke's frame)."""
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Static).update(text, layout=False)

    # -- query changes ------------------------------------------------------------------
    def _set_query(self, **changes: Any) -> None:
        lst = self.inbox_list
        lst.set_query(replace(lst.query_, **changes))
        if set(changes) - {"search"}:  # (a search keystroke leaves the filter line as it is)
            self._update_filter_bar()

    def _update_note(self) -> None:
        """The line under the search field: a typed full CPR number that cannot exist
        (format, date, century; never the checksum), or, when nothing matches under a status
        filter, that tasks of the other status are hidden and how to show them."""
        lst = self.inbox_list
        q = lst.query_
        text = ""
        s = parse_search(q.search)
        if s.kind == "cpr" and len(s.term) >= 10:
            try:
                cpr.validate(q.search.strip())
            except cpr.CprError as exc:
                text = t(exc.code)
        if not text and lst.total == 0 and q.status and (s.kind or q.event_code or q.workaround_id):
            hidden = lst.count_for(replace(q, status=None))
            if hidden:
                key = "inbox.search.hidden_closed" if q.status == "open" else "inbox.search.hidden_other"
                text = t(key, status=t(f"status.{q.status}"), n=number_text(hidden))
        if self._shown.get("#search-note") != text:
            self._show("#search-note", text)
            self.query_one("#search-note", Static).set_class(bool(text), "-shown")

    def action_claim_filter(self) -> None:
        """``m``: Alle -> Mine -> Ikke taget -> Alle."""
        choices = [v for v, _label in self.filter_choices("assignee")]
        current = self.inbox_list.query_.assignee
        i = choices.index(current) if current in choices else 0
        self._set_query(assignee=choices[(i + 1) % len(choices)])

    def team_changed(self) -> None:
        """Someone signed in or out: "Mine" follows the one signed in."""
        q = self.inbox_list.query_
        if q.assignee not in (None, "none"):
            self._set_query(assignee=self.sapp.author or None)
        else:
            self._update_filter_bar()

    def action_all_statuses(self) -> None:
        """Show tasks of every status (what the note under the search field offers)."""
        self._set_query(status=None)

    def search_changed(self, value: str) -> None:
        if value != self.inbox_list.query_.search:
            self._set_query(search=value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self.inbox_list.focus()

    def action_focus_search(self) -> None:
        self.query_one(SearchInput).focus()

    def action_sort(self) -> None:
        q = self.inbox_list.query_
        nxt = SORT_CYCLE[(SORT_CYCLE.index(q.sort) + 1) % len(SORT_CYCLE)] if q.sort in SORT_CYCLE else "due"
        self._set_query(sort=nxt)

    def action_reverse(self) -> None:
        self._set_query(descending=not self.inbox_list.query_.descending)

    def action_clear_filters(self) -> None:
        self.query_one(SearchInput).value = ""
        self._set_query(status="open", event_code=None, workaround_id=None, assignee=None, search="")

    def action_reload(self) -> None:
        self.inbox_list.reload()

    def action_filter(self) -> None:
        self.query_one(FilterBar).focus()

    def set_filter(self, field: str, value: Any) -> None:
        """One filter value changed (the filter bar): the list follows in the same frame."""
        self._set_query(**{field: value})

    # -- opening ------------------------------------------------------------------------
    def on_inbox_list_selected(self, message: InboxList.Selected) -> None:
        self.open_person(message.row)

    def open_person(self, row: dict[str, Any]) -> None:
        from .person import PersonScreen

        log.info("open person %s from task", mask(row["cpr"]))
        self.app.push_screen(PersonScreen(row["cpr"], task_id=row["id"]))

    def action_conflicts(self) -> None:
        """The operations the server did not apply (conflicts, rejected)."""
        self.sapp.open_conflicts()

    def action_close_task(self) -> None:
        """Close the selected task with a reason (no wizard)."""
        from .task_close import close_task_flow

        row = self.inbox_list.selected
        if row is None:
            self.notify(t("inbox.no_task_selected"), severity="warning")
            return
        close_task_flow(self.sapp, row["cpr"], row["id"])

    def action_followups(self) -> None:
        self.sapp.action_followups()

    def action_discard_draft(self) -> None:
        """Discard the selected task's wizard draft, after a confirmation."""
        from .drafts import discard_flow

        row = self.inbox_list.selected
        if row is None or row["id"] not in self.inbox_list.drafts:
            self.notify(t("draft.none"), severity="warning")
            return
        cases = [c for c in self.sapp.store.drafts() if c.task_id == row["id"]]
        discard_flow(self.sapp, cases, self.inbox_list.reload)

    def action_wizard(self) -> None:
        row = self.inbox_list.selected
        if row is None:
            self.notify(t("inbox.no_task_selected"), severity="warning")
            return
        self.sapp.start_suggested_wizard(row["cpr"], row["id"])
