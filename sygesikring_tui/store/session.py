"""Who is signed in on this desk (no network here: :mod:`sygesikring_tui.sync.client` signs in).

The desk keeps the caseworker's session token the server gave at sign-in (in the store's
``sync_state``, a file only its user can read), never the personal secret. While nobody is
signed in, the desk is read-only. A training store has a fixed trainee and no sign-in.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from .db import Store

KEY = "caseworker"
TEAM_KEY = "team_required"  # "1": the server's municipality has caseworkers (sign-in needed)
TRAINEE_INITIALS = "KUR"


@dataclass(frozen=True)
class SignedIn:
    initials: str
    name: str
    team_lead: bool = False
    session: str = ""  # the server's session token ("" in training)
    expires: str = ""  # ISO (UTC); "" never

    def expired(self, now: datetime | None = None) -> bool:
        if not self.expires:
            return False
        try:
            end = datetime.fromisoformat(self.expires)
        except ValueError:
            return True
        if end.tzinfo is None:
            end = end.replace(tzinfo=timezone.utc)
        return end <= (now or datetime.now(timezone.utc))


TRAINEE = SignedIn(TRAINEE_INITIALS, "Kursist", team_lead=True)  # trains every key, reassign too


def current(store: Store, now: datetime | None = None) -> SignedIn | None:
    """The caseworker signed in on this desk (the trainee in training); None when nobody is
    or the session expired."""
    if store.is_training:
        return TRAINEE
    row = store.conn.execute("SELECT value FROM sync_state WHERE key = ?", (KEY,)).fetchone()
    if row is None:
        return None
    try:
        signed = SignedIn(**json.loads(row[0]))
    except (TypeError, ValueError):
        return None
    return None if signed.expired(now) else signed


def remember(store: Store, signed: SignedIn) -> None:
    with store.transaction():
        store.conn.execute("INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                           "value = excluded.value", (KEY, json.dumps(asdict(signed))))


def forget(store: Store) -> None:
    with store.transaction():
        store.conn.execute("DELETE FROM sync_state WHERE key = ?", (KEY,))


def session_token(store: Store) -> str | None:
    """The session token for the server's ``X-Caseworker-Session`` (None: nobody signed in)."""
    signed = current(store)
    return signed.session or None if signed is not None else None


def team_required(store: Store) -> bool:
    """Whether the server said its municipality has caseworkers (as last seen)."""
    row = store.conn.execute("SELECT value FROM sync_state WHERE key = ?", (TEAM_KEY,)).fetchone()
    return row is not None and row[0] == "1"


def set_team_required(store: Store, required: bool) -> None:
    with store.transaction():
        store.conn.execute("INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                           "value = excluded.value", (TEAM_KEY, "1" if required else "0"))
