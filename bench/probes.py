"""Measurements that need a fresh process: time to interactive and peak RSS.

Run by ``bench.run`` as ``python -m bench.probes <probe> <kind> <store> <spawned-at>``; prints
one JSON line. ``kind`` is ``app`` (sygesikring-tui's inbox), ``bare`` (a bare Textual App
with one widget), ``datatable`` or ``fastdatatable`` (the same open tasks in Textual's
DataTable / textual-fastdatatable), all started the same way: headless ``run_test`` at 80×24.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time


def _bare_app():
    from textual.app import App, ComposeResult
    from textual.widgets import Input, Static

    class Bare(App):
        def compose(self) -> ComposeResult:
            yield Static("Bare Textual app")
            yield Input(id="search")

    return Bare()


OPEN_TASKS = ("SELECT due, status, event_code, cpr, name, coalesce(workaround_id, 'ingen') FROM tasks "
              "WHERE status = 'open' ORDER BY due, rid")
LABELS = ["Frist", "Status", "Hændelse", "CPR-nr.", "Navn", "Løsning"]


def _table_app(kind: str, store: str):
    """The same open tasks in Textual's DataTable, or in textual-fastdatatable (the table
    Harlequin uses; an optional bench-only dependency), started like the app: end to end,
    as a user waits for rows."""
    import sqlite3

    from textual.app import App, ComposeResult

    class TableApp(App):
        def compose(self) -> ComposeResult:
            conn = sqlite3.connect(store)
            try:
                self.rows = conn.execute(OPEN_TASKS).fetchall()
            finally:
                conn.close()
            if kind == "fastdatatable":
                from textual_fastdatatable import DataTable as FastDataTable

                yield FastDataTable(data=self.rows, column_labels=LABELS, id="table")
            else:
                from textual.widgets import DataTable

                yield DataTable(id="table")

        def on_mount(self) -> None:
            if kind == "datatable":
                table = self.query_one("#table")
                table.add_columns(*LABELS)
                table.add_rows(self.rows)

    return TableApp()


def _our_app(store: str):
    from bench.stores import TODAY
    from screens.app import make_app

    return make_app(store, today=TODAY)


async def _tti(kind: str, store: str, spawned: float) -> dict:
    if kind in ("datatable", "fastdatatable"):
        app = _table_app(kind, store)
    else:
        app = _bare_app() if kind == "bare" else _our_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        ready = time.time()
        if kind in ("datatable", "fastdatatable"):
            assert app.query_one("#table").row_count > 0
        if kind == "app":
            from screens.inbox import InboxScreen

            assert isinstance(app.screen, InboxScreen), app.screen
            lst = app.screen.inbox_list
            assert lst.total > 0 and lst.row_at(0) is not None
    return {"tti_s": ready - spawned}


async def _rss(kind: str, store: str, spawned: float) -> dict:
    """Use the app the way a caseworker does, then report the process's peak RSS."""
    app = _bare_app() if kind == "bare" else _our_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        if kind == "app":
            from screens.inbox import INDEX_DELAY

            await asyncio.sleep(INDEX_DELAY + 0.05)
            await app.workers.wait_for_complete()  # the in-memory index is loaded
            await pilot.press("G", "pagedown", "pageup", "g", "s", "s", "S")
            await pilot.press("slash", *"hansen")
            await pilot.press(*["backspace"] * 6, "down", "enter")
            await pilot.pause()
            await pilot.press("escape")
            await app.workers.wait_for_complete()
            await pilot.pause()
        else:
            await pilot.press("tab", *"hansen")
            await pilot.pause()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"peak_rss_mb": peak_kb / 1024, "vmhwm_mb": _vmhwm_kb() / 1024}


def _vmhwm_kb() -> float:
    """This process's own peak RSS (Linux). getrusage's ru_maxrss survives exec, so a child
    started by a big parent reports at least the parent's peak; VmHWM belongs to this process
    image alone. bench.run starts the RSS probes first, while it is small, so both agree."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


def main(argv: list[str]) -> int:
    probe, kind, store, spawned = argv[0], argv[1], argv[2], float(argv[3])
    fn = {"tti": _tti, "rss": _rss}[probe]
    result = asyncio.run(fn(kind, store, spawned))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
