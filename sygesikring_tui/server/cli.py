"""The ``sygesikring-server`` command.

    sygesikring-server serve [--db URL] [--host 127.0.0.1] [--port 8470]
    sygesikring-server add-desk --municipality CODE --name NAME     (prints the token once)
    sygesikring-server add-feed --name NAME                         (a CPR feed credential)
    sygesikring-server revoke-desk ID
    sygesikring-server list-desks
    sygesikring-server load FILE                                    (JSON lines: persons, providers)
    sygesikring-server replay-events FILE                           (JSON lines or a JSON list)
    sygesikring-server export-training STORE --municipality CODE --out FILE

``--db`` takes an SQLite file path or ``postgresql://...``; the default is ``server.db`` in
the user data dir (or ``$SYGESIKRING_SERVER_DB``). The schema is created and migrated at start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import paths

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
    a = sub.add_parser("add-desk", help="add a desk; prints its token once")
    a.add_argument("--municipality", type=int, required=True)
    a.add_argument("--name", required=True)
    f = sub.add_parser("add-feed", help="add a CPR feed credential; prints its token once")
    f.add_argument("--name", required=True)
    r = sub.add_parser("revoke-desk", help="revoke a desk's token")
    r.add_argument("id", type=int)
    sub.add_parser("list-desks", help="list desks and feeds")
    ld = sub.add_parser("load", help="bulk-load persons and providers from a JSON-lines file")
    ld.add_argument("file", type=Path)
    rp = sub.add_parser("replay-events", help="feed CPR events from a file")
    rp.add_argument("file", type=Path)
    ex = sub.add_parser("export-training", help="write a load file from a desk training store")
    ex.add_argument("store", type=Path)
    ex.add_argument("--municipality", type=int, required=True)
    ex.add_argument("--out", type=Path, required=True)
    return ap


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
            import uvicorn

            from .. import logs
            from .app import create_app

            logs.setup()
            uvicorn.run(create_app(storage), host=args.host, port=args.port, log_level="info")
            return 0
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
        if args.command == "load":
            counts = storage.load(_json_lines(args.file))
            print(f"loaded {counts['person']} persons, {counts['provider']} providers")
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
