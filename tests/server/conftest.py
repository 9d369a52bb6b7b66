"""Fixtures for the server and sync tests: databases (SQLite and PostgreSQL) and servers
(in-process and a real uvicorn on 127.0.0.1).

``tests/server`` is a package, so this file is the module ``server.conftest`` and never takes
the top-level name ``conftest`` from ``tests/conftest.py`` (whose helpers other test modules
import); the folder is put on ``sys.path`` for the ``srvkit`` helpers.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from srvkit import Env, UvicornThread, _free_port, fresh_pg_db  # noqa: E402
from sygesikring_tui.server.app import create_app
from sygesikring_tui.server.storage import Storage


# -- PostgreSQL -------------------------------------------------------------------------
def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str | None]:
    """A PostgreSQL server DSN (admin database), or None when none is available.

    ``$SYGESIKRING_TEST_PG_DSN`` wins; else a private cluster is made with initdb/pg_ctl in a
    temp dir and stopped at the end. Under CI=true, no PostgreSQL is a failure, not a skip.
    """
    dsn = os.environ.get("SYGESIKRING_TEST_PG_DSN")
    if dsn:
        yield dsn
        return
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no PostgreSQL: set SYGESIKRING_TEST_PG_DSN or install postgresql")
        yield None
        return
    tmp = Path(tempfile.mkdtemp(prefix="sygesikring-pg-"))
    data = tmp / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        shutil.chown(tmp, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(as_user + [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                              "--no-sync", "-E", "UTF8"], check=True, capture_output=True)
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c fsync=off -c max_connections=200"
    subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(tmp / "log"),
                              "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "server.db")
    admin = request.getfixturevalue("pg_server")
    if admin is None:
        pytest.skip("no PostgreSQL: no $SYGESIKRING_TEST_PG_DSN and no /usr/lib/postgresql/*/bin/initdb")
    return fresh_pg_db(admin)


@pytest.fixture(params=["inprocess", "uvicorn"])
def env(request: pytest.FixtureRequest, db_url: str) -> Iterator[Env]:
    storage = Storage(db_url, today=lambda: date(2026, 3, 2))
    app = create_app(storage)
    if request.param == "uvicorn":
        srv = UvicornThread(app).start()
        e = Env(storage, app, "uvicorn", srv.url)
        try:
            yield e
        finally:
            srv.stop()
            storage.close()
    else:
        e = Env(storage, app, "inprocess", "http://testserver")
        try:
            yield e
        finally:
            storage.close()


@pytest.fixture
def sqlite_env(tmp_path: Path) -> Iterator[Env]:
    storage = Storage(str(tmp_path / "server.db"), today=lambda: date(2026, 3, 2))
    yield Env(storage, create_app(storage), "inprocess", "http://testserver")
    storage.close()


