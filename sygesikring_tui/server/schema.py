"""The server's tables and their numbered migrations (SQLite and PostgreSQL alike).

``migrate`` creates the latest schema on an empty database and upgrades an older one step by
step (``if current < N``), never editing a step that shipped. The audit table is append-only,
and the database itself says so: triggers refuse every UPDATE and DELETE (PostgreSQL also
TRUNCATE), whoever connects.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from . import codec
from .codec import Encoded, from_json

SCHEMA_VERSION = 4
MIGRATION_LOCK = 0x5359474553  # the advisory lock id of schema migrations ("SYGES")

metadata = sa.MetaData()

server_meta = sa.Table(
    "server_meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
log_head = sa.Table(
    "log_head", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
)
desks = sa.Table(
    "desks", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("municipality", sa.Integer, nullable=True),  # NULL for a feed credential
    sa.Column("role", sa.String(16), nullable=False),  # desk | feed
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("revoked", sa.Text, nullable=True),
)
persons = sa.Table(
    "persons", metadata,
    sa.Column("cpr", sa.String(10), primary_key=True),
    sa.Column("municipality", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("doc", sa.Text, nullable=False),  # the state without tasks (schema 2; before: with them)
    sa.Column("name", sa.Text, nullable=False, server_default=""),  # schema 2
    sa.Column("tasks", sa.Text, nullable=False, server_default="[]"),  # schema 2
    sa.Index("persons_municipality_seq", "municipality", "seq"),
)
# A person left ``municipality`` at ``seq`` (its new version): that municipality's desks
# pull a removal. Schema 2.
departures = sa.Table(
    "departures", metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("cpr", sa.String(10), nullable=False),
    sa.Column("municipality", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("departures_municipality_seq", "municipality", "seq"),
)
providers = sa.Table(
    "providers", metadata,
    sa.Column("provider_number", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False, index=True),
    sa.Column("doc", sa.Text, nullable=False),
)
# Every write, one row per sequence number: the proof that the sequence is contiguous.
changes = sa.Table(
    "changes", metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(16), nullable=False),  # op | event | load | provider
    sa.Column("key", sa.String(64), nullable=False),  # cpr or provider number
    sa.Column("op_id", sa.String(64), nullable=True),
    sa.Column("at", sa.Text, nullable=False),
)
ops = sa.Table(
    "ops", metadata,
    sa.Column("op_id", sa.String(64), primary_key=True),
    sa.Column("cpr", sa.String(10), nullable=False),
    sa.Column("desk_id", sa.Integer, nullable=False),  # the only desk its stored answer goes to
    sa.Column("body_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=True),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
)
cpr_events = sa.Table(
    "cpr_events", metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("cpr", sa.String(10), nullable=False),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
)
# One row per access attempt to a person: allowed, refused (another municipality's) or
# not_found (no such CPR). Append-only (triggers below).
audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("desk_id", sa.Integer, nullable=True),  # NULL: the server itself (load, replay)
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("cpr", sa.String(10), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("caseworker", sa.String(64), nullable=True),  # schema 3: as the desk named it
    sa.Column("result", sa.String(16), nullable=False, server_default="allowed"),  # schema 3
    sa.Index("audit_cpr", "cpr"),  # schema 3
)

# The caseworkers of a municipality (schema 4): initials unique per municipality, the
# personal secret kept only as a salted scrypt hash (:mod:`.caseworkers`).
caseworkers = sa.Table(
    "caseworkers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("municipality", sa.Integer, nullable=False),
    sa.Column("initials", sa.String(16), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("team_lead", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("secret_hash", sa.Text, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("revoked", sa.Text, nullable=True),
    sa.UniqueConstraint("municipality", "initials", name="caseworkers_municipality_initials"),
)
# A caseworker signed in on a desk (schema 4): the desk holds the token, the server its hash.
# The session's window (created .. ended or expires) is when that desk may act in the
# caseworker's name.
caseworker_sessions = sa.Table(
    "caseworker_sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("caseworker_id", sa.Integer, nullable=False),
    sa.Column("desk_id", sa.Integer, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("expires", sa.Text, nullable=False),
    sa.Column("ended", sa.Text, nullable=True),
    sa.Index("caseworker_sessions_desk", "desk_id", "caseworker_id"),
)

AUDIT_COLUMNS = ("desk_id", "at", "cpr", "action", "caseworker", "result")

_SQLITE_AUDIT_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
)
_PG_AUDIT_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit is append-only'; END $$",
    "DROP TRIGGER IF EXISTS audit_append_only ON audit",
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    "DROP TRIGGER IF EXISTS audit_no_truncate ON audit",
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
)


class SchemaTooNew(Exception):
    pass


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def migrate(engine: Engine) -> None:
    """Create the schema if new, refuse a newer one; numbered like the desk store.

    Server processes started at once on one PostgreSQL take turns here (an advisory lock
    held to the end of the transaction): one migrates, the others find it done.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)" % MIGRATION_LOCK)
        insp = sa.inspect(conn)
        if insp.has_table("server_meta"):
            row = conn.execute(sa.select(server_meta.c.value).where(server_meta.c.key == "schema")).first()
            current = int(row[0]) if row else 0
        else:
            current = 0
        if current > SCHEMA_VERSION:
            raise SchemaTooNew(f"database schema {current} is newer than this server ({SCHEMA_VERSION})")
        if current < 1:
            metadata.create_all(conn)  # the latest schema at once
            _audit_append_only(conn)
            conn.execute(sa.insert(log_head).values(id=1, seq=0))
            conn.execute(sa.insert(server_meta).values(key="schema", value=str(SCHEMA_VERSION)))
            conn.execute(sa.insert(server_meta).values(key="created", value=now()))
            return
        if current < 2:
            _migrate_2(conn)
        if current < 3:
            _migrate_3(conn)
        if current < 4:
            _migrate_4(conn)
        # Later migrations: ``if current < 5: ...`` here, never editing the ones above.
        conn.execute(sa.update(server_meta).where(server_meta.c.key == "schema")
                     .values(value=str(SCHEMA_VERSION)))


def _migrate_2(conn: Connection) -> None:
    """Persons split into doc-without-tasks, name and tasks; the departures table."""
    conn.exec_driver_sql("ALTER TABLE persons ADD COLUMN name TEXT NOT NULL DEFAULT ''")
    conn.exec_driver_sql("ALTER TABLE persons ADD COLUMN tasks TEXT NOT NULL DEFAULT '[]'")
    departures.create(conn)
    from ..domain.model import PersonState

    stmt = sa.update(persons).where(persons.c.cpr == sa.bindparam("key")).values(
        name=sa.bindparam("n"), doc=sa.bindparam("d"), tasks=sa.bindparam("t"))
    upd = []
    for cpr, doc in conn.execute(sa.select(persons.c.cpr, persons.c.doc)).all():
        raw = json.loads(doc)
        st = from_json(PersonState, raw)
        enc = Encoded(st, codec._raw_of(st, raw))
        upd.append({"n": st.person.name, "d": codec.core_text(enc), "t": codec.tasks_text(enc), "key": cpr})
    if upd:
        conn.execute(stmt, upd)


def _migrate_3(conn: Connection) -> None:
    """The audit row says who at the desk and with what result; the database keeps it append-only."""
    insp = sa.inspect(conn)
    have = {c["name"] for c in insp.get_columns("audit")}  # a test may hand back a half-downgraded one
    if "caseworker" not in have:
        conn.exec_driver_sql("ALTER TABLE audit ADD COLUMN caseworker VARCHAR(64)")
    if "result" not in have:
        conn.exec_driver_sql("ALTER TABLE audit ADD COLUMN result VARCHAR(16) NOT NULL DEFAULT 'allowed'")
    if "audit_cpr" not in {i["name"] for i in insp.get_indexes("audit")}:
        sa.Index("audit_cpr", audit.c.cpr).create(conn)
    _audit_append_only(conn)


def _migrate_4(conn: Connection) -> None:
    """Caseworkers of a municipality and their sign-in sessions on desks."""
    caseworkers.create(conn, checkfirst=True)
    caseworker_sessions.create(conn, checkfirst=True)


def _audit_append_only(conn: Connection) -> None:
    for stmt in (_SQLITE_AUDIT_TRIGGERS if conn.dialect.name == "sqlite" else _PG_AUDIT_TRIGGERS):
        conn.exec_driver_sql(stmt)


def drop_all(engine: Engine) -> None:
    metadata.drop_all(engine)
