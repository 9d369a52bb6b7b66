"""Numbered migrations of the case store. Append only: never edit a released migration."""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE providers (
            provider_number TEXT PRIMARY KEY,
            practice_name TEXT NOT NULL,
            open INTEGER NOT NULL,
            municipality_code INTEGER NOT NULL,
            lat REAL NOT NULL,
            lon REAL NOT NULL,
            address TEXT NOT NULL DEFAULT ''
        );
        -- One row per person; doc holds the PersonState as JSON (tasks live in `tasks`).
        CREATE TABLE persons (
            cpr TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            municipality_code INTEGER NOT NULL,
            version INTEGER NOT NULL DEFAULT 0,
            doc TEXT NOT NULL
        );
        CREATE TABLE tasks (
            rid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            cpr TEXT NOT NULL REFERENCES persons(cpr),
            name TEXT NOT NULL,
            search TEXT NOT NULL,
            event_code TEXT NOT NULL,
            event_id TEXT,
            received TEXT NOT NULL,
            due TEXT NOT NULL,
            status TEXT NOT NULL,
            assignee TEXT,
            closed_reason TEXT,
            workaround_id TEXT
        );
        CREATE INDEX tasks_status_due ON tasks(status, due, rid);
        CREATE INDEX tasks_due ON tasks(due, rid);
        CREATE INDEX tasks_cpr ON tasks(cpr);
        CREATE INDEX tasks_event ON tasks(event_code, status, due);
        CREATE INDEX tasks_workaround ON tasks(workaround_id, status, due);
        CREATE TABLE cases (
            id TEXT PRIMARY KEY,
            workaround_id TEXT NOT NULL,
            cpr TEXT NOT NULL,
            task_id TEXT,
            status TEXT NOT NULL CHECK (status IN ('draft', 'committed', 'discarded')),
            step INTEGER NOT NULL DEFAULT 0,
            draft TEXT NOT NULL DEFAULT '{}',
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            committed TEXT
        );
        CREATE INDEX cases_status ON cases(status, updated);
        -- The outbox: every operation a committed case made, in local order.
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            op_id TEXT NOT NULL UNIQUE,
            case_id TEXT REFERENCES cases(id),
            cpr TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            base_version INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'applied', 'conflict', 'rejected', 'dropped')),
            created TEXT NOT NULL,
            result TEXT
        );
        CREATE INDEX outbox_status ON outbox(status, seq);
        """,
    ),
    (
        2,
        """
        -- Sync with the server (sygesikring_tui/sync, store/sync_state.py).
        -- key/value: cursor (last server sequence pulled), last_sync, last_error, online.
        CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        -- A pulled person state held back while the person has pending local operations;
        -- installed once those are answered (no pending operation is hidden by a pull).
        CREATE TABLE sync_held (
            cpr TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            doc TEXT NOT NULL
        );
        -- How the caseworker settled a conflicted or rejected operation (redo or drop, with a note).
        CREATE TABLE sync_resolutions (
            op_id TEXT PRIMARY KEY REFERENCES outbox(op_id),
            action TEXT NOT NULL CHECK (action IN ('redo', 'drop')),
            note TEXT NOT NULL,
            resolved TEXT NOT NULL
        );
        """,
    ),
    (
        3,
        """
        -- The caseworker's sessions in a wizard draft: opened (or resumed) to closed or
        -- committed. Summed at commit into the case's case_time operation (store/wizard_time.py).
        CREATE TABLE wizard_sessions (
            case_id TEXT NOT NULL REFERENCES cases(id),
            started TEXT NOT NULL,
            ended TEXT
        );
        CREATE INDEX wizard_sessions_case ON wizard_sessions(case_id, ended);
        """,
    ),
    (
        4,
        """
        -- Claiming (store/claims.py): when the task's assignee took it.
        ALTER TABLE tasks ADD COLUMN claimed_at TEXT;
        """,
    ),
    (
        5,
        """
        -- The follow-ups view (store/followups.py) reads only persons that have follow-ups:
        -- a partial index on the same expression its query filters by (the codec writes a
        -- non-empty list as "followups":[{ ). Without it, every person's document was read.
        CREATE INDEX IF NOT EXISTS persons_with_followups ON persons(cpr) WHERE instr(doc, '"followups":[{') > 0;
        """,
    ),
]

LATEST = MIGRATIONS[-1][0]
