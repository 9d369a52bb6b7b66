"""The fault-cost report: which Sygesikring fault costs the most tasks and caseworker time.

Per workaround (guide section, with its Jira ids) and ISO week: tasks received, tasks
closed, the median days from received to closed, and the caseworker's time in the wizard
(open -> commit, summed over the sessions of each draft; the ``case_time`` operation).

The figures come from what every desk and the server hold alike: a person's tasks and
history. A closed task is closed at its ``task_close`` history entry; it counts under the
workaround of the case that closed it (its ``case_time``), else under the task's own
suggested workaround. A task received in the period counts in the week it was received; a
task closed in the period in the week it was closed; a case's wizard time in the week it
was committed.

No Textual here: the server's ``report`` command, the desk's report screen and the tests
share it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import msgspec

from .domain.operations import parse_case_time

NO_WORKAROUND = "-"  # a task no workaround was suggested for
TOTAL = "total"  # the week column of a row over the whole period


@dataclass(frozen=True)
class TaskFact:
    task_id: str
    workaround_id: str | None
    received: date
    closed: date | None
    municipality: int | None = None
    count: int = 1  # open tasks alike in all of the above but the id come as one fact


@dataclass(frozen=True)
class TimeFact:
    case_id: str
    workaround_id: str
    committed: date
    seconds: int
    sessions: int
    municipality: int | None = None


@dataclass
class Facts:
    tasks: list[TaskFact] = field(default_factory=list)
    times: list[TimeFact] = field(default_factory=list)

    def extend(self, other: Facts) -> None:
        self.tasks.extend(other.tasks)
        self.times.extend(other.times)


@dataclass(frozen=True)
class Row:
    """One line of the report: a workaround in one ISO week (``week`` "2026-W14") or over the
    whole period (``week`` == TOTAL)."""

    week: str
    workaround_id: str
    jira: str
    received: int
    closed: int
    median_days: float | None  # received -> closed, of the tasks closed then
    wizard_seconds: int
    cases: int  # committed cases whose wizard time is counted


@dataclass(frozen=True)
class Report:
    start: date
    stop: date
    municipality: int | None
    rows: list[Row]  # the weeks (in order), then the totals (most wizard time first)

    @property
    def weeks(self) -> list[Row]:
        return [r for r in self.rows if r.week != TOTAL]

    @property
    def totals(self) -> list[Row]:
        return [r for r in self.rows if r.week == TOTAL]


def iso_week(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def week_start(week: str) -> date:
    y, w = week.split("-W")
    return date.fromisocalendar(int(y), int(w), 1)


def weeks_between(start: date, stop: date) -> list[str]:
    out: list[str] = []
    d = date.fromisocalendar(*start.isocalendar()[:2], 1)
    while d <= stop:
        out.append(iso_week(d))
        d = date.fromordinal(d.toordinal() + 7)
    return out


def _day(ts: str) -> date | None:
    try:
        return datetime.fromisoformat(ts).date() if "T" in ts else date.fromisoformat(ts[:10])
    except ValueError:
        return None


# -- facts from a person's tasks and history (JSON as stored on the desk and the server) -------

def person_facts(tasks: Sequence[Mapping[str, Any]], history: Sequence[Mapping[str, Any]],
                 municipality: int | None = None) -> Facts:
    """The report's facts of one person: its tasks (received, closed when and under which
    workaround) and the wizard time of its committed cases."""
    closed_at: dict[str, tuple[date, str | None]] = {}
    times: list[TimeFact] = []
    case_wid: dict[str, str] = {}
    for h in history:
        action = h.get("action")
        if action == "task_close":
            day = _day(str(h.get("at") or ""))
            if day is not None:
                closed_at[str(h.get("detail"))] = (day, h.get("case_id"))
        elif action == "case_time":
            parsed = parse_case_time(str(h.get("detail") or ""))
            day = _day(str(h.get("at") or ""))
            if parsed is None or day is None:
                continue
            cid = str(h.get("case_id") or "")
            case_wid[cid] = parsed[0]
            times.append(TimeFact(cid, parsed[0], day, parsed[1], parsed[2], municipality))
    out = Facts(times=times)
    for t in tasks:
        try:
            received = date.fromisoformat(str(t["received"]))
        except (KeyError, ValueError):
            continue
        closed = None
        wid = t.get("workaround_id")
        if t.get("status") == "closed" and t.get("id") in closed_at:
            closed, cid = closed_at[t["id"]]
            wid = case_wid.get(cid or "", wid)
        out.tasks.append(TaskFact(str(t.get("id")), wid, received, closed, municipality))
    return out


class _Entry(msgspec.Struct):
    at: str = ""
    action: str = ""
    detail: str = ""
    case_id: str | None = None


class _History(msgspec.Struct):
    history: list[_Entry] = []


_HISTORY_OF = msgspec.json.Decoder(_History)  # reads a person's document for its history alone


def doc_facts(tasks_json: str | Sequence[Mapping[str, Any]], doc: str, municipality: int | None = None) -> Facts:
    """:func:`person_facts` of a stored person: its tasks (JSON text or rows) and its document."""
    tasks = json.loads(tasks_json) if isinstance(tasks_json, str) else tasks_json
    history = [msgspec.structs.asdict(h) for h in _HISTORY_OF.decode(doc).history
               if h.action in ("task_close", "case_time")]
    return person_facts(tasks, history, municipality)


# -- the figures -----------------------------------------------------------------------------

def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def build(facts: Facts, start: date, stop: date, jira: Mapping[str, Sequence[str]] | None = None,
          municipality: int | None = None) -> Report:
    """The report over ``start``..``stop`` (both days included), for one municipality or
    (None) all the facts hold."""
    jira = jira or {}

    def inside(d: date | None) -> bool:
        return d is not None and start <= d <= stop

    def mine(m: int | None) -> bool:
        return municipality is None or m == municipality

    received: dict[tuple[str, str], int] = defaultdict(int)
    closed: dict[tuple[str, str], list[int]] = defaultdict(list)
    secs: dict[tuple[str, str], int] = defaultdict(int)
    cases: dict[tuple[str, str], int] = defaultdict(int)
    wids: set[str] = set()
    for t in facts.tasks:
        if not mine(t.municipality):
            continue
        wid = t.workaround_id or NO_WORKAROUND
        if inside(t.received):
            received[(iso_week(t.received), wid)] += t.count
            wids.add(wid)
        if t.closed is not None and inside(t.closed):
            closed[(iso_week(t.closed), wid)].append(max(0, (t.closed - t.received).days))
            wids.add(wid)
    for c in facts.times:
        if mine(c.municipality) and inside(c.committed):
            key = (iso_week(c.committed), c.workaround_id)
            secs[key] += c.seconds
            cases[key] += 1
            wids.add(c.workaround_id)

    def row(week: str, wid: str, keys: Iterable[tuple[str, str]]) -> Row:
        keys = list(keys)
        days = [d for k in keys for d in closed.get(k, ())]
        return Row(week, wid, ", ".join(jira.get(wid, ())), sum(received.get(k, 0) for k in keys), len(days),
                   _median(days), sum(secs.get(k, 0) for k in keys), sum(cases.get(k, 0) for k in keys))

    weeks = weeks_between(start, stop)
    order = sorted(wids, key=section_key)
    rows = [row(w, wid, [(w, wid)]) for w in weeks for wid in order
            if (w, wid) in received or (w, wid) in closed or (w, wid) in secs]
    totals = [row(TOTAL, wid, [(w, wid) for w in weeks]) for wid in order]
    totals.sort(key=lambda r: (-r.wizard_seconds, -r.received, section_key(r.workaround_id)))
    return Report(start, stop, municipality, rows + totals)


def section_key(wid: str) -> tuple[int, ...]:
    """Guide sections in their order ("2.10.1" after "2.9.1"); anything else last."""
    try:
        return tuple(int(x) for x in wid.split("."))
    except ValueError:
        return (10**6,)


def series(report: Report, metric: str = "received") -> dict[str, list[int]]:
    """Per workaround, one figure per week of the period (0 where nothing happened): the plot."""
    weeks = weeks_between(report.start, report.stop)
    index = {w: i for i, w in enumerate(weeks)}
    out: dict[str, list[int]] = {}
    for r in report.weeks:
        vals = out.setdefault(r.workaround_id, [0] * len(weeks))
        vals[index[r.week]] = int(getattr(r, metric))
    return out


# -- CSV and JSON ----------------------------------------------------------------------------

CSV_FIELDS = ("week", "workaround_id", "jira", "received", "closed", "median_days", "wizard_seconds", "cases")


def to_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for r in report.rows:
        w.writerow([r.week, r.workaround_id, r.jira, r.received, r.closed,
                    "" if r.median_days is None else f"{r.median_days:g}", r.wizard_seconds, r.cases])
    return buf.getvalue()


def rows_from_csv(text: str) -> list[Row]:
    """The rows of a report written by :func:`to_csv`."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != CSV_FIELDS:
        raise ValueError(f"not a fault-cost report: columns {reader.fieldnames}")
    return [Row(d["week"], d["workaround_id"], d["jira"], int(d["received"]), int(d["closed"]),
                float(d["median_days"]) if d["median_days"] else None, int(d["wizard_seconds"]), int(d["cases"]))
            for d in reader]


def save_csv(report: Report, folder: Path) -> Path:
    """The report as CSV in ``folder`` (made 0700 if new), named by its period; the file is
    the owner's alone (0600) and replaced whole, so a reader never sees half of it."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"fault-report-{report.start:%Y%m%d}-{report.stop:%Y%m%d}.csv"
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(to_csv(report))
    os.replace(tmp, path)
    return path


def to_json(report: Report) -> str:
    return json.dumps({"from": report.start.isoformat(), "to": report.stop.isoformat(),
                       "municipality": report.municipality,
                       "weeks": [asdict(r) for r in report.weeks],
                       "totals": [asdict(r) for r in report.totals]}, ensure_ascii=False, indent=2)


def hours(seconds: int) -> str:
    """Wizard time as h:mm."""
    m = round(seconds / 60)
    return f"{m // 60}:{m % 60:02d}"


def table_lines(report: Report, headers: Sequence[str], total_label: str) -> Iterator[str]:
    """The report as aligned text lines (weeks, then the totals); ``headers`` in the reader's
    language, in the order of :data:`CSV_FIELDS`."""
    rows = [tuple(headers)]
    for r in report.rows:
        rows.append((total_label if r.week == TOTAL else r.week, r.workaround_id, r.jira or "-", str(r.received),
                     str(r.closed), "-" if r.median_days is None else f"{r.median_days:g}",
                     hours(r.wizard_seconds), str(r.cases)))
    widths = [max(len(x[i]) for x in rows) for i in range(len(headers))]
    for x in rows:
        yield "  ".join(c.rjust(widths[i]) if i >= 3 else c.ljust(widths[i]) for i, c in enumerate(x)).rstrip()


# -- the desk's facts ------------------------------------------------------------------------

_HISTORY = "SELECT cpr FROM tasks WHERE status = 'closed' UNION SELECT cpr FROM cases WHERE status = 'committed'"


def read_only(path: Any) -> sqlite3.Connection:
    """A read-only connection of its own to a desk store (a report computed off the UI
    thread reads beside the desk's writes: WAL)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=3000")
    return conn


def store_facts(store: Any, start: date, stop: date) -> Facts:
    """The facts of a desk store (or a connection to one, :func:`read_only`) for ``start``..``stop``: the tasks received by ``stop``; the
    history of the persons with a closed task or a committed case (the closing and wizard
    times, this desk's and those pulled from the others). The other persons' tasks are only
    counted, by day and workaround, in SQL."""
    conn = store if isinstance(store, sqlite3.Connection) else store.conn
    facts = Facts()
    for wid, received, n in conn.execute(
            f"SELECT workaround_id, received, count(*) FROM tasks WHERE received BETWEEN ? AND ? "
            f"AND cpr NOT IN ({_HISTORY}) GROUP BY workaround_id, received", (start.isoformat(), stop.isoformat())):
        facts.tasks.append(TaskFact("", wid, date.fromisoformat(received), None, None, n))
    by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for tid, cpr, wid, received, status in conn.execute(
            f"SELECT id, cpr, workaround_id, received, status FROM tasks WHERE cpr IN ({_HISTORY}) AND received <= ?",
            (stop.isoformat(),)):
        by_person[cpr].append({"id": tid, "workaround_id": wid, "received": received, "status": status})
    for cpr, doc in conn.execute(f"SELECT cpr, doc FROM persons WHERE cpr IN ({_HISTORY})"):
        facts.extend(doc_facts(by_person.get(cpr, []), doc))
    return facts
