"""The ``sygesikring-server`` command.

    sygesikring-server serve [--db URL] [--host 127.0.0.1] [--port 8470] [--workers N]
                             [--max-body BYTES] [--access-log] [--log-file FILE]
    sygesikring-server add-desk --municipality CODE --name NAME     (prints the token once)
    sygesikring-server add-feed --name NAME                         (a CPR feed credential)
    sygesikring-server revoke-desk ID
    sygesikring-server list-desks
    sygesikring-server add-caseworker --municipality CODE --initials ABC --name NAME [--team-lead]
                                                                    (prints the personal secret once)
    sygesikring-server revoke-caseworker --municipality CODE --initials ABC
    sygesikring-server list-caseworkers [--municipality CODE]
    sygesikring-server load FILE                      (JSON lines: persons, providers, caseworkers)
    sygesikring-server replay-events FILE                           (JSON lines or a JSON list)
    sygesikring-server export-training STORE --municipality CODE --out FILE
    sygesikring-server audit [--cpr CPR] [--desk ID] [--since DATE] [--csv] [--out FILE [--unmasked]]
    sygesikring-server report --from DATE --to DATE [--municipality CODE] [--format table|csv|json]

``--db`` takes an SQLite file path or ``postgresql://...``; the default is ``server.db`` in
the user data dir (or ``$SYGESIKRING_SERVER_DB``). The schema is created and migrated at start.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .. import paths
from ..logs import mask_text

DEFAULT_PORT = 8470


def default_db() -> str:
    return os.environ.get("SYGESIKRING_SERVER_DB") or str(paths.user_data_dir() / "server.db")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="sygesikring-server", description="Sygesikring backend server")
    ap.add_argument("--db", default=None, help="SQLite file or postgresql://... (default: user data dir)")
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the HTTP server")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=DEFAULT_PORT)
    s.add_argument("--workers", type=int, default=1,
                   help="server processes on this port (all on one database: use PostgreSQL for N > 1)")
    s.add_argument("--max-body", type=int, default=None,
                   help="largest request body accepted, in bytes (default 1 MiB; $SYGESIKRING_SERVER_MAX_BODY)")
    s.add_argument("--access-log", action="store_true",
                   help="log every request (off by default); CPR numbers in paths are masked")
    s.add_argument("--log-file", type=Path, default=None,
                   help="the server's log (default: logs/sygesikring-server.log in the user data dir)")
    a = sub.add_parser("add-desk", help="add a desk; prints its token once")
    a.add_argument("--municipality", type=int, required=True)
    a.add_argument("--name", required=True)
    f = sub.add_parser("add-feed", help="add a CPR feed credential; prints its token once")
    f.add_argument("--name", required=True)
    r = sub.add_parser("revoke-desk", help="revoke a desk's token")
    r.add_argument("id", type=int)
    sub.add_parser("list-desks", help="list desks and feeds")
    ac = sub.add_parser("add-caseworker", help="add a caseworker; prints the personal secret once")
    ac.add_argument("--municipality", type=int, required=True)
    ac.add_argument("--initials", required=True)
    ac.add_argument("--name", required=True)
    ac.add_argument("--team-lead", action="store_true", help="may release and reassign others' tasks")
    rc = sub.add_parser("revoke-caseworker", help="revoke a caseworker (signs them out everywhere)")
    rc.add_argument("--municipality", type=int, required=True)
    rc.add_argument("--initials", required=True)
    lc = sub.add_parser("list-caseworkers", help="list caseworkers")
    lc.add_argument("--municipality", type=int, default=None)
    ld = sub.add_parser("load", help="bulk-load persons and providers from a JSON-lines file")
    ld.add_argument("file", type=Path)
    rp = sub.add_parser("replay-events", help="feed CPR events from a file")
    rp.add_argument("file", type=Path)
    ex = sub.add_parser("export-training", help="write a load file from a desk training store")
    ex.add_argument("store", type=Path)
    ex.add_argument("--municipality", type=int, required=True)
    ex.add_argument("--out", type=Path, required=True)
    au = sub.add_parser("audit", help="print the audit log (CPR numbers masked unless --unmasked --out FILE)")
    au.add_argument("--cpr", help="only accesses to this person (the full CPR number)")
    au.add_argument("--desk", type=int, help="only accesses by this desk id")
    au.add_argument("--since", help="only accesses from this date or date-time (ISO, UTC) on")
    au.add_argument("--csv", action="store_true", help="CSV instead of a table")
    au.add_argument("--out", type=Path, help="write to this file (created 0600) instead of standard output")
    au.add_argument("--unmasked", action="store_true",
                    help="full CPR numbers; only into a file (--out), never onto the terminal")
    rep = sub.add_parser("report", help="the fault-cost report: tasks and wizard time per workaround and week")
    rep.add_argument("--from", dest="start", required=True, help="first day (YYYY-MM-DD or DD-MM-YYYY)")
    rep.add_argument("--to", dest="stop", required=True, help="last day, included")
    rep.add_argument("--municipality", type=int, default=None, help="one municipality (default: all)")
    rep.add_argument("--format", choices=("table", "csv", "json"), default="table")
    return ap


REPORT_HEADERS = ("week", "workaround", "jira", "received", "closed", "median days", "wizard h:mm", "cases")


def _day(text: str) -> date:
    """An ISO date or the screen's DD-MM-YYYY."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return datetime.strptime(text, "%d-%m-%Y").date()


def report_command(args: argparse.Namespace, storage: Any) -> int:
    from .. import fault_report

    try:
        start, stop = _day(args.start), _day(args.stop)
    except ValueError:
        print(f"--from {args.start!r} / --to {args.stop!r}: not a date (YYYY-MM-DD or DD-MM-YYYY)", file=sys.stderr)
        return 2
    if stop < start:
        print("--to is before --from", file=sys.stderr)
        return 2
    report = storage.report(start, stop, args.municipality)
    if args.format == "csv":
        sys.stdout.write(fault_report.to_csv(report))
    elif args.format == "json":
        sys.stdout.write(fault_report.to_json(report) + "\n")
    else:
        where = f"municipality {args.municipality}" if args.municipality is not None else "all municipalities"
        print(f"Fault-cost report {start.strftime('%d-%m-%Y')} - {stop.strftime('%d-%m-%Y')}, {where}")
        for line in fault_report.table_lines(report, REPORT_HEADERS, "total"):
            print(line)
    return 0


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        first = fh.read(1)
        fh.seek(0)
        if first == "[":
            yield from json.load(fh)
            return
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{n}: not JSON ({exc.msg})") from None


def server_log_file() -> Path:
    folder = paths.user_data_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / "sygesikring-server.log"


class MaskAccessArgs(logging.Filter):
    """CPR numbers masked in uvicorn's access log records, whose formatter needs the
    arguments (client, method, path, version, status) kept as a tuple."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_text(a) if isinstance(a, str) else a for a in record.args)
        record.msg = mask_text(str(record.msg))
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging behind the CPR masking filters: its access log prints request
    paths (``/v1/persons/{cpr}`` carries a CPR number), its error log exception texts."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    cfg = copy.deepcopy(LOGGING_CONFIG)
    cfg.setdefault("filters", {}).update({
        "mask_cpr": {"()": "sygesikring_tui.logs.MaskCprFilter"},
        "mask_access": {"()": "sygesikring_tui.server.cli.MaskAccessArgs"},
    })
    for name, handler in cfg["handlers"].items():
        handler.setdefault("filters", []).append("mask_access" if name == "access" else "mask_cpr")
    return cfg


def serve(args: argparse.Namespace, db: str) -> int:
    import uvicorn

    from .. import logs
    from .app import MAX_BODY

    log_file = logs.setup(path=args.log_file or server_log_file())
    max_body = args.max_body or int(os.environ.get("SYGESIKRING_SERVER_MAX_BODY") or MAX_BODY)
    # Every worker process builds its app from the environment (uvicorn's factory).
    os.environ["SYGESIKRING_SERVER_DB"] = db
    os.environ["SYGESIKRING_SERVER_MAX_BODY"] = str(max_body)
    os.environ["SYGESIKRING_SERVER_LOG"] = str(log_file)
    if args.workers > 1 and not db.startswith(("postgresql://", "postgres://")):
        print("note: several workers on one SQLite file take turns at every write; PostgreSQL scales out",
              file=sys.stderr)
    uvicorn.run("sygesikring_tui.server.app:app_from_env", factory=True, host=args.host, port=args.port,
                workers=max(1, args.workers), log_level="info", access_log=args.access_log,
                log_config=uvicorn_log_config(), lifespan="off")
    return 0


def audit_command(args: argparse.Namespace, db: str) -> int:
    from . import audit
    from .repository import make_engine

    if args.unmasked and not args.out:
        print("--unmasked writes full CPR numbers only into a file: add --out FILE", file=sys.stderr)
        return 2
    if args.since:
        try:
            audit.parse_since(args.since)
        except ValueError:
            print(f"--since {args.since!r}: not an ISO date or date-time", file=sys.stderr)
            return 2
    engine = make_engine(db)
    try:
        rows = audit.query(engine, cpr=args.cpr, desk=args.desk, since=args.since)
    finally:
        engine.dispose()
    text = audit.as_csv(rows, args.unmasked) if args.csv else audit.as_table(rows, args.unmasked)
    if args.out:
        audit.write_private(args.out, text)
        print(f"{len(rows)} audit rows written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    db = args.db or default_db()
    if args.command == "export-training":
        from .export import export_training

        n = export_training(args.store, args.municipality, args.out)
        print(f"{n} records written to {args.out}")
        return 0

    from .storage import SchemaTooNew, Storage

    try:
        storage = Storage(db)
    except SchemaTooNew as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            storage.close()  # migrated; the workers open their own
            return serve(args, db)
        if args.command == "audit":
            return audit_command(args, db)
        if args.command == "report":
            return report_command(args, storage)
        if args.command in ("add-desk", "add-feed"):
            role = "desk" if args.command == "add-desk" else "feed"
            desk, token = storage.add_desk(args.name, getattr(args, "municipality", None), role)
            print(f"{role} {desk.id} ({desk.name}) added. Token, shown only now:", file=sys.stderr)
            print(token)
            return 0
        if args.command == "revoke-desk":
            if storage.revoke_desk(args.id):
                print(f"desk {args.id} revoked")
                return 0
            print(f"no live desk with id {args.id}", file=sys.stderr)
            return 1
        if args.command == "list-desks":
            for d in storage.list_desks():
                state = f"revoked {d.revoked}" if d.revoked else "live"
                print(f"{d.id}\t{d.role}\t{d.municipality if d.municipality is not None else '-'}\t{d.name}\t{state}")
            return 0
        if args.command == "add-caseworker":
            try:
                cw, secret = storage.add_caseworker(args.municipality, args.initials, args.name, args.team_lead)
            except ValueError as exc:
                print(str(exc), file=sys.stderr)
                return 1
            role = "team lead" if cw.team_lead else "caseworker"
            print(f"{role} {cw.initials} ({cw.name}) of municipality {cw.municipality} added. "
                  "Personal secret, shown only now:", file=sys.stderr)
            print(secret)
            return 0
        if args.command == "revoke-caseworker":
            if storage.revoke_caseworker(args.municipality, args.initials):
                print(f"caseworker {args.initials.upper()} of municipality {args.municipality} revoked")
                return 0
            print(f"no live caseworker {args.initials} in municipality {args.municipality}", file=sys.stderr)
            return 1
        if args.command == "list-caseworkers":
            for c in storage.list_caseworkers(args.municipality):
                state = f"revoked {c.revoked}" if c.revoked else "live"
                print(f"{c.municipality}\t{c.initials}\t{'lead' if c.team_lead else '-'}\t{c.name}\t{state}")
            return 0
        if args.command == "load":
            def told(cw: Any, secret: str) -> None:  # the secrets of a new team, shown only now
                print(f"caseworker {cw.initials} of municipality {cw.municipality}: {secret}")

            counts = storage.load(_json_lines(args.file), on_caseworker=told)
            print(f"loaded {counts['person']} persons, {counts['provider']} providers, "
                  f"{counts['caseworker']} caseworkers")
            return 0
        if args.command == "replay-events":
            from ..catalogue import load_catalogue
            from .app import event_id, make_suggest

            cat = load_catalogue()
            events = []
            for e in _json_lines(args.file):
                e = dict(e)
                e["id"] = e.get("id") or event_id(e)
                events.append(e)
            done = {"applied": 0, "duplicate": 0, "rejected": 0}
            for i in range(0, len(events), 1000):
                for ans in storage.ingest_events(None, events[i:i + 1000], cat.events, make_suggest(storage, cat)):
                    done[ans["status"]] = done.get(ans["status"], 0) + 1
            print(", ".join(f"{k}: {v}" for k, v in done.items()))
            return 0
    finally:
        storage.close()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
