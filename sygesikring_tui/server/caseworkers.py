"""Caseworkers of a municipality, their sign-in on a desk, and who an operation is in the name of.

A desk token says which desk asks; a caseworker signs in on that desk with initials and a
personal secret (``sygesikring-server add-caseworker`` prints it once; only a salted scrypt
hash is stored) and the desk gets a session token (stored here as its SHA-256). The desk
keeps the session token, never the secret.

An operation names its caseworker in ``payload.author`` (initials) and carries the time it
was made (``payload.at``). The server accepts it only when that caseworker, of the desk's
municipality and not revoked, was signed in on THIS desk at that time (a session whose
window, created .. ended or expired, holds ``at``, give or take :data:`CLOCK_SKEW`). So an
operation queued while its caseworker was signed in still goes through after sign-out, and
a desk cannot act in the name of a colleague who never signed in on it, nor of another
municipality's caseworker. A municipality with no caseworker registered yet does not ask
(desks from before caseworkers); once it has one, every operation must name one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .schema import caseworker_sessions, caseworkers, now

SESSION_TTL = timedelta(hours=10)  # a working day; the desk also signs out after idle time
CLOCK_SKEW = timedelta(minutes=10)  # desk and server clocks may differ this much
INITIALS_MAX = 16
_SCRYPT = (1 << 14, 8, 1)  # n, r, p: ~16 MiB, tens of milliseconds per try
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed by hand

# Why an operation's caseworker was refused (translation keys, as rule violations are).
MISSING, UNKNOWN, NOT_SIGNED_IN = "caseworker.missing", "caseworker.unknown", "caseworker.not_signed_in"


@dataclass(frozen=True)
class Caseworker:
    id: int
    municipality: int
    initials: str
    name: str
    team_lead: bool
    revoked: str | None = None


@dataclass(frozen=True)
class Session:
    caseworker: Caseworker
    desk_id: int
    created: str
    expires: str


class SignInRefused(Exception):
    """Unknown initials, wrong secret or revoked caseworker (never says which)."""


def new_secret() -> str:
    """A personal secret of 16 characters (~79 bits) in groups of four: ``K7QM-3XPD-9RTA-WZ2H``."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def _norm_secret(secret: str) -> bytes:
    return secret.strip().upper().replace("-", "").replace(" ", "").encode("utf-8")


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (hex) of the secret (dashes, spaces and case ignored)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    n, r, p = _SCRYPT
    digest = hashlib.scrypt(_norm_secret(secret), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        got = hashlib.scrypt(_norm_secret(secret), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def clean_initials(initials: str) -> str:
    v = initials.strip().upper()
    if not v or len(v) > INITIALS_MAX or not v.isalnum():
        raise ValueError(f"initials: 1 to {INITIALS_MAX} letters or digits")
    return v


_COLS = (caseworkers.c.id, caseworkers.c.municipality, caseworkers.c.initials, caseworkers.c.name,
         caseworkers.c.team_lead, caseworkers.c.revoked)


def _cw(r: Sequence[Any]) -> Caseworker:
    return Caseworker(int(r[0]), int(r[1]), r[2], r[3], bool(r[4]), r[5])


def _parse(ts: str) -> datetime | None:
    try:
        d = datetime.fromisoformat(ts)
    except (TypeError, ValueError):
        return None
    return d if d.tzinfo is not None else d.replace(tzinfo=timezone.utc)


# -- admin -------------------------------------------------------------------------------
def add(engine: Engine, municipality: int, initials: str, name: str, team_lead: bool = False,
        secret: str | None = None) -> tuple[Caseworker, str]:
    """A new caseworker; returns it and the secret (shown once, stored only as a hash).
    ``secret``: a given one (demo and training loads); a new one otherwise."""
    initials = clean_initials(initials)
    secret = secret or new_secret()
    with engine.begin() as conn:
        live = conn.execute(sa.select(caseworkers.c.id).where(
            caseworkers.c.municipality == municipality, caseworkers.c.initials == initials)).first()
        if live is not None:
            raise ValueError(f"{initials} exists in municipality {municipality}")
        res = conn.execute(sa.insert(caseworkers).values(
            municipality=municipality, initials=initials, name=name, team_lead=team_lead,
            secret_hash=hash_secret(secret), created=now()))
        cid = int(res.inserted_primary_key[0])
    return Caseworker(cid, municipality, initials, name, team_lead), secret


def revoke(engine: Engine, municipality: int, initials: str) -> bool:
    """Revoke the caseworker and end every session of theirs at once."""
    at = now()
    with engine.begin() as conn:
        row = conn.execute(sa.select(caseworkers.c.id).where(
            caseworkers.c.municipality == municipality, caseworkers.c.initials == initials.strip().upper(),
            caseworkers.c.revoked.is_(None))).first()
        if row is None:
            return False
        conn.execute(sa.update(caseworkers).where(caseworkers.c.id == row[0]).values(revoked=at))
        conn.execute(sa.update(caseworker_sessions).where(caseworker_sessions.c.caseworker_id == row[0],
                                                          caseworker_sessions.c.ended.is_(None)).values(ended=at))
    return True


def listing(engine: Engine, municipality: int | None = None, live_only: bool = False) -> list[Caseworker]:
    q = sa.select(*_COLS).order_by(caseworkers.c.municipality, caseworkers.c.initials)
    if municipality is not None:
        q = q.where(caseworkers.c.municipality == municipality)
    if live_only:
        q = q.where(caseworkers.c.revoked.is_(None))
    with engine.connect() as conn:
        return [_cw(r) for r in conn.execute(q)]


# -- sign-in -----------------------------------------------------------------------------
def sign_in(engine: Engine, desk_id: int, municipality: int, initials: str, secret: str,
            ttl: timedelta = SESSION_TTL) -> tuple[Session, str]:
    """A session for the caseworker on the desk; returns it and its token (the desk keeps it).
    Raises :class:`SignInRefused` for unknown initials, a wrong secret or a revoked caseworker."""
    try:
        initials = clean_initials(initials)
    except ValueError:
        raise SignInRefused() from None
    with engine.connect() as conn:
        row = conn.execute(sa.select(*_COLS, caseworkers.c.secret_hash).where(
            caseworkers.c.municipality == municipality, caseworkers.c.initials == initials)).first()
    # A wrong name costs the same as a wrong secret (no telling which initials exist).
    stored = row[6] if row is not None else hash_secret("x", b"\0" * 16)
    ok = verify_secret(secret, stored)
    if row is None or not ok or row[5] is not None:
        raise SignInRefused()
    cw = _cw(row[:6])
    token = secrets.token_urlsafe(32)
    created = datetime.now(timezone.utc)
    expires = created + ttl
    c_txt, e_txt = (d.isoformat(timespec="milliseconds") for d in (created, expires))
    with engine.begin() as conn:
        conn.execute(sa.insert(caseworker_sessions).values(
            token_hash=_token_hash(token), caseworker_id=cw.id, desk_id=desk_id, created=c_txt, expires=e_txt))
    return Session(cw, desk_id, c_txt, e_txt), token


def session_for(engine: Engine, desk_id: int, token: str) -> Session | None:
    """The live session of this token on this desk (None: unknown, another desk's, ended,
    expired, or its caseworker revoked)."""
    with engine.connect() as conn:
        r = conn.execute(sa.select(*_COLS, caseworker_sessions.c.desk_id, caseworker_sessions.c.created,
                                   caseworker_sessions.c.expires, caseworker_sessions.c.ended)
                         .select_from(caseworker_sessions.join(
                             caseworkers, caseworkers.c.id == caseworker_sessions.c.caseworker_id))
                         .where(caseworker_sessions.c.token_hash == _token_hash(token))).first()
    if r is None or int(r[6]) != desk_id or r[9] is not None or r[5] is not None:
        return None
    exp = _parse(r[8])
    if exp is None or exp <= datetime.now(timezone.utc):
        return None
    return Session(_cw(r[:6]), desk_id, r[7], r[8])


def sign_out(engine: Engine, desk_id: int, token: str) -> bool:
    with engine.begin() as conn:
        res = conn.execute(sa.update(caseworker_sessions).where(
            caseworker_sessions.c.token_hash == _token_hash(token), caseworker_sessions.c.desk_id == desk_id,
            caseworker_sessions.c.ended.is_(None)).values(ended=now()))
    return res.rowcount == 1


# -- operations in a caseworker's name -----------------------------------------------------
class Identities:
    """What the push needs to know about one desk's caseworkers, read once per batch."""

    def __init__(self, conn: Connection, desk_id: int, municipality: int | None) -> None:
        rows = [] if municipality is None else conn.execute(
            sa.select(*_COLS).where(caseworkers.c.municipality == municipality)).all()
        self.by_initials = {r[2]: _cw(r) for r in rows}
        self.required = bool(rows)
        live = [c.id for c in self.by_initials.values() if c.revoked is None]
        self.windows: dict[int, list[tuple[datetime, datetime]]] = {}
        if live:
            for cid, created, expires, ended in conn.execute(
                    sa.select(caseworker_sessions.c.caseworker_id, caseworker_sessions.c.created,
                              caseworker_sessions.c.expires, caseworker_sessions.c.ended)
                    .where(caseworker_sessions.c.desk_id == desk_id,
                           caseworker_sessions.c.caseworker_id.in_(live))):
                start, stop = _parse(created), _parse(expires)
                end = _parse(ended) if ended else None
                if start is None or stop is None:
                    continue
                self.windows.setdefault(int(cid), []).append((start, min(stop, end) if end else stop))

    def team_lead(self, initials: str) -> bool:
        c = self.by_initials.get(initials)
        return c is not None and c.revoked is None and c.team_lead

    def problem(self, payload: Any) -> str | None:
        """Why this operation may not be made in the caseworker's name it gives (None: it may)."""
        if not self.required:  # no caseworker registered: the author is the desk's free text
            return None
        author = payload.get("author") if isinstance(payload, dict) else None
        if not isinstance(author, str) or not author:
            return MISSING
        c = self.by_initials.get(author)
        if c is None or c.revoked is not None:
            return UNKNOWN
        at = payload.get("at")
        moment = _parse(at) if isinstance(at, str) else None
        current = datetime.now(timezone.utc)
        if moment is None or moment > current + CLOCK_SKEW:
            moment = current
        if not any(start - CLOCK_SKEW <= moment <= stop + CLOCK_SKEW for start, stop in self.windows.get(c.id, ())):
            return NOT_SIGNED_IN
        claimant = payload.get("claimant")  # a task is given only to a caseworker of the municipality
        if isinstance(claimant, str) and (claimant not in self.by_initials
                                          or self.by_initials[claimant].revoked is not None):
            return UNKNOWN
        return None


def public(c: Caseworker) -> dict[str, Any]:
    return {"initials": c.initials, "name": c.name, "team_lead": c.team_lead}
