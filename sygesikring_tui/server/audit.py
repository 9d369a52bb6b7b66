"""Reading the audit log: ``sygesikring-server audit --cpr X | --desk N | --since D``.

The log answers "who looked at this person" and "what did this desk touch", so the
operator needs the CPR to find rows — but printed output is where full CPR numbers leak
(terminal scroll-back, pasted into a ticket, a CI log). So the CPR column is masked
(``DDMMYY-XXXX``) in every printed form, table or CSV; the full number is written only into
a file (``--out``, created 0600) and only when asked for (``--unmasked``). ``--cpr`` accepts
the full number, with or without the dash, and matches it exactly.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..domain.cpr import compact, mask
from .schema import audit, desks

HEADER = ("id", "at", "desk", "desk_name", "caseworker", "cpr", "action", "result")


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str
    desk_id: int | None
    desk_name: str | None
    caseworker: str | None
    cpr: str
    action: str
    result: str


def parse_since(text: str) -> str:
    """An ISO date (UTC midnight) or date-time (UTC unless it names its offset), as the text
    the ``at`` column (UTC ISO, milliseconds) compares with."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def query(engine: Engine, cpr: str | None = None, desk: int | None = None, since: str | None = None,
          limit: int | None = None) -> list[AuditRow]:
    q = (sa.select(audit.c.id, audit.c.at, audit.c.desk_id, desks.c.name, audit.c.caseworker, audit.c.cpr,
                   audit.c.action, audit.c.result)
         .select_from(audit.outerjoin(desks, desks.c.id == audit.c.desk_id)).order_by(audit.c.id))
    if cpr:
        q = q.where(audit.c.cpr == compact(cpr))
    if desk is not None:
        q = q.where(audit.c.desk_id == desk)
    if since:
        q = q.where(audit.c.at >= parse_since(since))
    if limit:
        q = q.limit(limit)
    with engine.connect() as conn:
        return [AuditRow(*r) for r in conn.execute(q)]


def _cells(r: AuditRow, unmasked: bool) -> tuple[str, ...]:
    return (str(r.id), r.at, "-" if r.desk_id is None else str(r.desk_id), r.desk_name or "-", r.caseworker or "-",
            r.cpr if unmasked else mask(r.cpr), r.action, r.result)


def as_csv(rows: Iterable[AuditRow], unmasked: bool = False) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for r in rows:
        w.writerow(_cells(r, unmasked))
    return buf.getvalue()


def as_table(rows: Sequence[AuditRow], unmasked: bool = False) -> str:
    cells = [HEADER] + [_cells(r, unmasked) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    return "".join("  ".join(c[i].ljust(widths[i]) for i in range(len(HEADER))).rstrip() + "\n" for c in cells)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new or truncated file readable by its owner only."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
