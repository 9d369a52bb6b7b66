"""The fault-cost report on the desk: which Sygesikring fault cost the most tasks and time.

A terminal plot of tasks per week per fault (the faults with the most tasks), the table of
every fault over the period under it, retired workarounds (their release in production)
marked at their release date, and ``e`` writes the report as CSV into the user's data dir.
The figures are :mod:`sygesikring_tui.fault_report`'s, from this desk's store (its own work
and what it pulled from the other desks of the municipality).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from sygesikring_tui import fault_report, paths
from sygesikring_tui.fault_report import NO_WORKAROUND, Report
from sygesikring_tui.fmt import number_text
from sygesikring_tui.i18n import t

from .sync_view import SyncStatusLine
from .widgets import AppHeader, Guarded, KeyBar, TrainingBanner, fmt_date

if TYPE_CHECKING:
    from .app import SygesikringApp

log = logging.getLogger(__name__)

PERIODS = (8, 26, 52, 4)  # weeks; p steps through them
METRICS = ("received", "closed", "wizard_seconds")  # m steps through what the plot shows
PLOTTED = 5  # the faults with the most of the metric get a line each


def period(today: date, weeks: int) -> tuple[date, date]:
    """``weeks`` whole ISO weeks ending with the week of ``today`` (Monday .. today)."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks - 1), today


def export_folder() -> Path:
    return paths.user_data_dir() / "reports"


class ReportScreen(Guarded, Screen[None]):
    HELP_KEY = "help.report"
    TITLE_KEY = "report.title"
    DEFAULT_CSS = """
    ReportScreen #report-period { height: 1; padding: 0 1; text-style: bold; }
    ReportScreen #report-plot { height: 9; }
    ReportScreen #report-table { height: 1fr; scrollbar-size-vertical: 1; }
    ReportScreen #report-saved { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    ReportScreen #report-saved.-empty { display: none; }
    """
    BINDINGS = [
        Binding("escape,backspace", "back", show=False, id="report.back"),
        Binding("e", "export", show=False, id="report.export"),
        Binding("m", "metric", show=False, id="report.metric"),
        Binding("p", "period", show=False, id="report.period"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.weeks = PERIODS[0]
        self.metric = METRICS[0]
        self.report: Report | None = None
        self.retired: dict[str, date | None] = {}
        self.saved: Path | None = None

    @property
    def sapp(self) -> SygesikringApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield AppHeader("report.title")
        yield TrainingBanner()
        yield Static("", id="report-period", markup=False)
        yield PlotextPlot(id="report-plot")
        yield DataTable(id="report-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="report-saved", classes="-empty", markup=False)
        yield KeyBar([("e", "report.key.export", "report.export"), ("m", "report.key.metric", "report.metric"),
                      ("p", "report.key.period", "report.period"), ("Esc", "ui.back", "report.back"),
                      ("F1", "ui.help", "help")], id="keybar")
        yield SyncStatusLine(id="sync-status")

    def on_mount(self) -> None:
        self.load()
        self.query_one(DataTable).focus()

    # -- the figures ------------------------------------------------------------------------
    def _retired(self) -> dict[str, date | None]:
        """Workaround id -> the day its release went live (None: live, day not known)."""
        from sygesikring_tui.releases import live_releases, live_since

        cat = self.sapp.catalogue
        live, since = live_releases(), live_since()
        return {wid: since.get(cat.workarounds[wid].release or "") for wid in cat.retired(live)}

    def load(self) -> None:
        """Compute the report off the UI thread (a 100,000-task store takes a moment)."""
        start, stop = period(self.sapp.today, self.weeks)
        cat = self.sapp.catalogue
        jira = {w.id: w.jira for w in cat.workarounds.values()}
        path = self.sapp.store.path
        self.query_one("#report-period", Static).update(t("report.computing"))
        self.run_worker(lambda: self._compute(path, start, stop, jira), thread=True, exclusive=True,
                        group="report")

    def _compute(self, path: Path, start: date, stop: date, jira: dict[str, Any]) -> None:
        try:
            conn = fault_report.read_only(path)
            try:
                report = fault_report.build(fault_report.store_facts(conn, start, stop), start, stop, jira)
            finally:
                conn.close()
        except Exception as exc:  # noqa: BLE001 - reported like any other unexpected error
            self.app.call_from_thread(self.sapp.report_error, exc)
            return
        self.app.call_from_thread(self._loaded, report)

    def _loaded(self, report: Report) -> None:
        self.report = report
        self.retired = self._retired()
        self.refresh_texts()

    def refresh_texts(self) -> None:
        if self.report is None:
            return
        r = self.report
        self.query_one("#report-period", Static).update(
            t("report.period", start=fmt_date(r.start), stop=fmt_date(r.stop), n=self.weeks,
              metric=t(f"report.metric.{self.metric}")))
        self._plot()
        self._table()
        self.query_one(KeyBar).refresh_texts()
        saved = self.query_one("#report-saved", Static)
        saved.set_class(self.saved is None, "-empty")
        if self.saved is not None:
            saved.update(t("report.saved", path=str(self.saved)))

    def _label(self, wid: str) -> str:
        return t("report.no_workaround") if wid == NO_WORKAROUND else wid

    def _plot(self) -> None:
        assert self.report is not None
        r = self.report
        weeks = fault_report.weeks_between(r.start, r.stop)
        data = fault_report.series(r, self.metric)
        if self.metric == "wizard_seconds":
            data = {k: [round(v / 60) for v in vals] for k, vals in data.items()}
        top = sorted(data, key=lambda k: (-sum(data[k]), fault_report.section_key(k)))[:PLOTTED]
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_figure()
        xs = list(range(1, len(weeks) + 1))
        for wid in top:
            plt.plot(xs, data[wid], label=self._label(wid), marker="braille")
        high = max([max(data[wid], default=0) for wid in top] + [1])
        every = -(-high // 4)  # whole numbers on the y axis, at most five of them
        plt.ylim(0, high)
        plt.yticks(list(range(0, high + 1, every)))
        step = max(1, len(weeks) // 6)
        plt.xticks(xs[::step], [t("report.week_short", n=int(w.split("-W")[1])) for w in weeks[::step]])
        for wid, day in sorted(self.retired.items()):
            if day is not None and r.start <= day <= r.stop and wid in top:
                plt.vline(weeks.index(fault_report.iso_week(day)) + 1)
        if not top:
            plt.title(t("report.nothing"))
        plot.refresh()

    def _table(self) -> None:
        assert self.report is not None
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        table.add_columns(t("report.col.section"), t("report.col.jira"), t("report.col.received"),
                          t("report.col.closed"), t("report.col.median"), t("report.col.time"),
                          t("report.col.retired"))
        for x in self.report.totals:
            retired = ""
            if x.workaround_id in self.retired:
                day = self.retired[x.workaround_id]
                retired = fmt_date(day) if day else t("report.retired")
            table.add_row(self._label(x.workaround_id), _jira(x.jira), str(x.received), str(x.closed),
                          "–" if x.median_days is None else t("report.days", n=number_text(x.median_days)),
                          fault_report.hours(x.wizard_seconds), retired)
        if not self.report.totals:
            table.add_row(t("report.nothing"), "", "", "", "", "", "")
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    # -- keys -------------------------------------------------------------------------------
    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_metric(self) -> None:
        self.metric = METRICS[(METRICS.index(self.metric) + 1) % len(METRICS)]
        self.refresh_texts()

    def action_period(self) -> None:
        self.weeks = PERIODS[(PERIODS.index(self.weeks) + 1) % len(PERIODS)]
        self.load()

    def action_export(self) -> None:
        if self.report is None:
            return
        try:
            self.saved = fault_report.save_csv(self.report, export_folder())
        except OSError as exc:
            log.warning("report export failed: %s", type(exc).__name__)
            self.notify(t("report.export_failed", error=exc.strerror or type(exc).__name__), severity="error")
            return
        log.info("fault-cost report written to %s", self.saved)
        self.notify(t("report.saved", path=str(self.saved)))
        self.refresh_texts()


def _jira(ids: str) -> str:
    """The first Jira id, and how many more (the CSV has them all)."""
    parts = [p for p in ids.split(", ") if p]
    if not parts:
        return "–"
    return parts[0] + (f" +{len(parts) - 1}" if len(parts) > 1 else "")


def open_report(app: Any) -> None:
    if not isinstance(app.screen, ReportScreen):
        app.push_screen(ReportScreen())
