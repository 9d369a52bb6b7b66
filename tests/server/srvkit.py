"""Helpers for the server and sync tests: synthetic persons, servers (in-process and a real
uvicorn on 127.0.0.1), desks, and a fault-injecting transport."""

from __future__ import annotations

import glob
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from sygesikring_tui.domain import cpr
from sygesikring_tui.domain.model import (
    Address,
    DoctorChoice,
    Fee,
    GroupRegistration,
    Person,
    PersonState,
    Provider,
    Sex,
    Task,
    to_json,
)
from sygesikring_tui.server.app import create_app
from sygesikring_tui.server.storage import Storage
from sygesikring_tui.store import open_store
from sygesikring_tui.sync import SyncClient

MUNI_A = 751  # Aarhus
MUNI_B = 101  # København
OPEN = Provider("012345", "Lægerne Vestergade", True, 751, 56.160, 10.200, "Vestergade 3")
CLOSED = Provider("054321", "Lægehuset Søndergade", False, 751, 56.150, 10.210, "Søndergade 9")


# -- synthetic persons ------------------------------------------------------------------
def make_person(rng: random.Random, municipality: int = MUNI_A, n_tasks: int = 1, group: int = 1) -> PersonState:
    born = date(rng.randrange(1940, 2005), rng.randrange(1, 13), rng.randrange(2, 29))
    male = rng.random() < 0.5
    number = cpr.synthetic(born, male, rng)
    addr = Address("Vestergade 12", "8000", "Aarhus C", municipality, 56.157, 10.205)
    person = Person(number, f"Testperson {number[-4:]}", born, Sex.MALE if male else Sex.FEMALE, addr)
    groups = (GroupRegistration("g-" + number, group, date(2010, 1, 2)),)
    doctors = (DoctorChoice("d-" + number, OPEN.provider_number, OPEN.practice_name, "selvvalgt",
                            date(2010, 1, 2), fee=Fee(False, 0, "")),) if group == 1 else ()
    tasks = tuple(Task(f"t-{number}-{i}", number, "038", None, date(2026, 1, 5), date(2026, 1, 10))
                  for i in range(n_tasks))
    return PersonState(person, 1, groups=groups, doctors=doctors, tasks=tasks)


def load_records(states: list[PersonState], providers: tuple[Provider, ...] = (OPEN, CLOSED)) -> list[dict]:
    return ([{"type": "provider", "provider": to_json(p)} for p in providers]
            + [{"type": "person", "state": to_json(s)} for s in states])


def fresh_pg_db(admin_dsn: str) -> str:
    """A new empty database on the PostgreSQL server of ``admin_dsn``; its DSN."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin_dsn.rsplit("/", 1)[0] + "/" + name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- servers ----------------------------------------------------------------------------
class UvicornThread:
    """A real uvicorn serving ``app`` on 127.0.0.1:<free port>, in a thread."""

    def __init__(self, app: Any) -> None:
        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class Env:
    """One server (storage + app) and helpers to make desks and clients for it."""

    storage: Storage
    app: Any
    mode: str  # inprocess | uvicorn
    url: str
    _tc: TestClient | None = None

    def client(self, token: str, transport: httpx.BaseTransport | None = None) -> SyncClient:
        if transport is None and self.mode == "inprocess":
            transport = self.transport()
        return SyncClient(self.url, token, transport=transport, timeout=30)

    def transport(self) -> httpx.BaseTransport:
        if self.mode == "uvicorn":
            return httpx.HTTPTransport()
        if self._tc is None:
            self._tc = TestClient(self.app)
        return self._tc._transport  # the in-process ASGI transport behind TestClient

    def http(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, transport=self.transport(), headers=headers, timeout=30)

    def desk(self, municipality: int = MUNI_A, name: str = "desk") -> str:
        return self.storage.add_desk(name, municipality)[1]


def new_desk_store(path: Path, training: bool = False):
    return open_store(path, training=training)


# -- faults -----------------------------------------------------------------------------
class FaultyTransport(httpx.BaseTransport):
    """Wraps a transport; ``mode`` decides what the next requests suffer:
    None (pass), offline / drop_request (never reaches the server), drop_response (the
    server handles it, the answer is lost), error_5xx (the server answers 503 unhandled)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.mode: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        mode = self.mode
        if mode in ("offline", "drop_request"):
            raise httpx.ConnectError("injected: " + mode, request=request)
        if mode == "error_5xx":
            return httpx.Response(503, text="injected outage", request=request)
        resp = self.inner.handle_request(request)
        if mode == "drop_response":
            resp.read()
            raise httpx.ReadTimeout("injected: response lost", request=request)
        return resp


# -- desks ------------------------------------------------------------------------------
TODAY = date(2026, 3, 2)


def commit(store, cpr_: str, kind: str, payload: dict[str, Any], workaround: str = "2.1") -> list:
    """A caseworker's wizard run: one case, one operation, committed to the desk store."""
    from sygesikring_tui.domain.operations import PlannedOp

    case = store.create_case(workaround, cpr_, None)
    return store.commit_case(case.id, [PlannedOp(cpr_, kind, payload)], TODAY, author="sagsbehandler")


def note(store, cpr_: str, text: str = "ringet op") -> str:
    return commit(store, cpr_, "note_add", {"text": text})[0].op_id


def switch_group(store, cpr_: str, group: int, effective: str = "2026-04-01") -> str:
    return commit(store, cpr_, "group_switch", {"group": group, "effective": effective, "reason": "valgt"})[0].op_id


def _norm(state: PersonState) -> dict:
    d = to_json(state)
    d["tasks"] = sorted(d["tasks"], key=lambda t: t["id"])  # the desk lists tasks by due date
    return d


def server_docs(storage: Storage) -> dict[str, dict]:
    return {c: _norm(s) for c, s in storage.all_persons().items()}


def desk_docs(store, cprs) -> dict[str, dict]:
    return {c: _norm(store.load_person(c)) for c in cprs}


class ServerProcess:
    """``sygesikring-server serve`` as deployed: its own process on 127.0.0.1:<free port>,
    its standard output and error captured to files, its log file in ``home``."""

    def __init__(self, db: str, home: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.stdout_path = self.home / f"stdout-{self.port}.txt"
        self.stderr_path = self.home / f"stderr-{self.port}.txt"
        self.args = [sys.executable, "-m", "sygesikring_tui.server.cli", "--db", db, "serve",
                     "--port", str(self.port), *extra]
        self.env = {**os.environ, "SYGESIKRING_HOME": str(self.home), **(env or {})}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "sygesikring-server.log"

    def start(self) -> ServerProcess:
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=err, env=self.env)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url + "/health", timeout=2).raise_for_status()
                return self
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("server did not start:\n" + self.output()) from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def output(self) -> str:
        """Everything the process printed, and its log file."""
        parts = [p.read_text(encoding="utf-8", errors="replace")
                 for p in (self.stdout_path, self.stderr_path, self.log_file) if p.exists()]
        return "\n".join(parts)
