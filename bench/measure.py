"""In-process measurements on a headless app (``run_test``): first paint, the DataTable
baseline, keystroke-to-repaint, and the store's wizard commit."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stores import TODAY, scratch_copy

SIZE = (80, 24)
QUIET = 0.05  # seconds to wait after a key for any late repaint


class Paints:
    """Records when the app composes a frame (``App._display`` is called with each compositor
    update after ``render_update`` — which is where the Line API renders — even headless).
    A measurement is from a start time to the LAST frame the action caused."""

    def __init__(self, app: Any) -> None:
        self.stamps: list[float] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                self.stamps.append(time.perf_counter())
            original(screen, renderable)

        app._display = display

    def start(self) -> float:
        self.stamps.clear()
        return time.perf_counter()

    async def first_frame_with(self, pilot: Any, t0: float, marks: list[float]) -> float:
        """Seconds from ``t0`` to the first frame composed after ``marks[0]`` (the moment the
        widget under test rendered its first data line)."""
        await self.until_quiet(pilot, t0)
        if not marks:
            raise RuntimeError("the widget rendered no data line")
        return next(s for s in self.stamps if s >= marks[0]) - t0

    async def until_quiet(self, pilot: Any, t0: float) -> float:
        """Seconds from ``t0`` to the last frame, once the app is idle again."""
        await pilot.pause()
        await asyncio.sleep(QUIET)
        await pilot.pause()
        if not self.stamps:
            raise RuntimeError("no frame was painted")
        return self.stamps[-1] - t0


def _mark_render(cls: type, marks: list[float], data_from_y: int = 0) -> Any:
    """Wrap ``cls.render_line`` to note when a data line (y >= ``data_from_y``) is rendered."""
    original = cls.render_line

    def render_line(self: Any, y: int) -> Any:
        strip = original(self, y)
        if y >= data_from_y and not marks:
            marks.append(time.perf_counter())
        return strip

    cls.render_line = render_line
    return original


async def _settle(app: Any, pilot: Any) -> None:
    """Wait until the inbox has loaded its in-memory index (it starts after INDEX_DELAY)."""
    from screens.inbox import INDEX_DELAY

    await pilot.pause()
    await asyncio.sleep(INDEX_DELAY + 0.05)
    await app.workers.wait_for_complete()
    await pilot.pause()


# -- first paint ------------------------------------------------------------------------------


async def inbox_first_paint(store: Path, reps: int = 5) -> list[float]:
    """Seconds from pushing a new inbox screen until it has painted its first page."""
    from screens.app import make_app
    from screens.inbox import InboxList, InboxScreen

    app = make_app(store, today=TODAY)
    out: list[float] = []
    marks: list[float] = []
    original = _mark_render(InboxList, marks, data_from_y=1)  # line 0 is the column header
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _settle(app, pilot)
            paints = Paints(app)
            for _ in range(reps):
                marks.clear()
                t0 = paints.start()
                await app.push_screen(InboxScreen())
                out.append(await paints.first_frame_with(pilot, t0, marks))
                lst = app.screen.inbox_list
                assert lst.total > 0 and lst.row_at(0) is not None
                await app.workers.wait_for_complete()
                await app.pop_screen()
                await pilot.pause()
    finally:
        InboxList.render_line = original
    return out


async def datatable_first_paint(store: Path, reps: int = 1) -> tuple[list[float], int]:
    """The same open tasks loaded into Textual's DataTable (the widget the inbox avoids)."""
    from textual.app import ComposeResult
    from textual.screen import Screen
    from textual.widgets import DataTable

    from screens.app import make_app

    class TableScreen(Screen):
        def compose(self) -> ComposeResult:
            yield DataTable(id="table")

        def on_mount(self) -> None:
            conn = sqlite3.connect(store)
            try:
                rows = conn.execute(
                    "SELECT due, status, event_code, cpr, name, coalesce(workaround_id, 'ingen') FROM tasks "
                    "WHERE status = 'open' ORDER BY due, rid").fetchall()
            finally:
                conn.close()
            table = self.query_one(DataTable)
            table.add_columns("Frist", "Status", "Hændelse", "CPR-nr.", "Navn", "Løsning")
            table.add_rows(rows)
            self.rows = len(rows)

    app = make_app(store, today=TODAY)
    out: list[float] = []
    n = 0
    marks: list[float] = []
    original = _mark_render(DataTable, marks, data_from_y=1)  # line 0 is the column header
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _settle(app, pilot)
            paints = Paints(app)
            for _ in range(reps):
                marks.clear()
                t0 = paints.start()
                screen = TableScreen()
                await app.push_screen(screen)
                out.append(await paints.first_frame_with(pilot, t0, marks))
                n = screen.rows
                await app.pop_screen()
                await pilot.pause()
    finally:
        DataTable.render_line = original
    return out, n


# -- keystrokes -------------------------------------------------------------------------------

SEARCH_WORDS = ("hansen", "nielsen", "lars", "0101", "2512")


async def inbox_keystrokes(store: Path) -> dict[str, list[float]]:
    """Seconds from a key press to the repainted inbox: search, filter (a value changed in the
    filter line) and sort keys."""
    from screens.app import make_app

    app = make_app(store, today=TODAY)
    res: dict[str, list[float]] = {"search": [], "filter": [], "sort": []}

    async def timed(key: str, bucket: str) -> None:
        t0 = paints.start()
        await pilot.press(key)
        res[bucket].append(await paints.until_quiet(pilot, t0))

    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        paints = Paints(app)
        await pilot.press("slash")
        for word in SEARCH_WORDS:
            for ch in word:
                await timed(ch, "search")
            for _ in word:
                await timed("backspace", "search")
        await pilot.press("escape")  # empty search: back to the list
        await _settle(app, pilot)
        lst = app.screen.inbox_list
        # Filters, edited in place in the filter line (f, then ←/→ to the field): every ↓ is
        # one filter change; then x clears them all (also timed).
        from screens.inbox import FILTER_FIELDS, FilterBar

        bar = app.screen.query_one(FilterBar)
        for col, downs in ((0, 1), (0, 2), (1, 1), (1, 2), (1, 3), (1, 5), (1, 8), (2, 1), (2, 2), (2, 5)):
            # (the filter line keeps the field it was left on: step from there to field ``col``)
            await pilot.press("f", *["right"] * ((col - bar.field) % len(FILTER_FIELDS)))
            await pilot.pause()
            assert bar.field == col, (bar.field, col)
            for _ in range(downs):
                await timed("down", "filter")
            await pilot.press("enter")  # back to the list
            await pilot.pause()
            await timed("x", "filter")  # clear filters
        assert lst.query_.event_code is None
        for _ in range(2):
            for _ in range(7):
                await timed("s", "sort")
            await timed("S", "sort")
    return res


async def bare_keystrokes(n: int = 40) -> list[float]:
    """The same key presses into a bare Textual Input: the framework's own floor."""
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    class Bare(App):
        def compose(self) -> ComposeResult:
            yield Input(id="search")

    app = Bare()
    out: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.query_one(Input).focus()
        paints = Paints(app)
        for i in range(n):
            key = "hansen"[i % 6] if (i // 6) % 2 == 0 else "backspace"
            t0 = paints.start()
            await pilot.press(key)
            out.append(await paints.until_quiet(pilot, t0))
    return out


# -- wizard commit ----------------------------------------------------------------------------


def wizard_commits(store: Path, n: int = 60) -> tuple[list[float], list[float], int]:
    """``Store.commit_case`` with a call-up / discharge wizard's operations (group switch, note,
    close the task) on a private copy of ``store``; and the floor: an empty durable write
    transaction on the same file. Returns (commit seconds, floor seconds, ops per commit)."""
    from sygesikring_tui.domain.wizards.base import dry_run
    from sygesikring_tui.store import open_store
    from sygesikring_tui.domain.operations import PlannedOp

    commits: list[float] = []
    floor: list[float] = []
    ops_per_commit = 0
    with tempfile.TemporaryDirectory(prefix="sygesikring-bench-") as tmp:
        copy = scratch_copy(store, Path(tmp))
        st = open_store(copy, create=False)
        try:
            ctx = st.rule_context(TODAY)
            cands = st.conn.execute(
                "SELECT cpr, id, event_code FROM tasks WHERE status = 'open' AND event_code IN ('038', '039') "
                "ORDER BY rid LIMIT 2000").fetchall()
            for cpr, task_id, code in cands:
                if len(commits) >= n:
                    break
                state = st.load_person(cpr)
                cur = state.current_group(TODAY) if state else None
                if cur is None or (code == "038" and cur.group != 1) or (code == "039" and cur.group != 5):
                    continue
                to = 5 if code == "038" else 1
                planned = [
                    PlannedOp(cpr, "group_switch", {"group": to, "effective": TODAY.isoformat(),
                                                    "reason": "værnepligt" if to == 5 else "hjemsendelse"}),
                    PlannedOp(cpr, "note_add", {"text": f"Sikringsgruppe {cur.group} → {to} (2.4.1), benchmark."}),
                    PlannedOp(cpr, "task_close", {"task_id": task_id, "reason": "udført via wizard 2.4.1"}),
                ]
                _states, problems = dry_run(planned, {cpr: state}, ctx)
                if problems:
                    continue
                case = st.create_case("2.4.1", cpr, task_id, {"_wizard": "callup"})
                t0 = time.perf_counter()
                st.commit_case(case.id, planned, TODAY, author="bench")
                commits.append(time.perf_counter() - t0)
                ops_per_commit = len(planned)
                t0 = time.perf_counter()
                with st.transaction():
                    st.set_meta("bench", str(len(commits)))
                floor.append(time.perf_counter() - t0)
        finally:
            st.close()
    return commits, floor, ops_per_commit


# -- inbox index memory -----------------------------------------------------------------------


def index_bytes(store: Path) -> dict[str, Any]:
    """What the inbox's in-memory index holds per column, warmed as the app warms it: bytes
    per task (key arrays + the tables of distinct values) and the total in MB."""
    from sygesikring_tui.store.inbox_index import InboxIndex

    index = InboxIndex.load(store)
    if index is None:
        return {"tasks": 0, "per_task": {}, "total_mb": 0.0}
    index.warm()
    got = index.nbytes()
    n = len(index)
    return {"tasks": n, "per_task": {k: round(v / n, 1) for k, v in got.items()},
            "total_mb": round(sum(got.values()) / 1e6, 1), "distinct_names": len(index.values["name"])}
