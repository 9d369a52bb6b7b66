"""Change notification: a desk's long-poll on ``GET /v1/changes?wait=S`` is answered as soon
as a change it may see is committed (or when ``S`` seconds are up, with an empty page).

Cursor semantics are the pull's own: the waiting request runs the ordinary
:meth:`Storage.pull` after every wake-up, so a wake-up can neither skip nor repeat a change;
it only decides *when* the page is read.

Who wakes the waiters:

* every writing transaction calls :func:`in_transaction` before it commits (PostgreSQL:
  ``pg_notify`` on :data:`CHANNEL`, delivered by PostgreSQL at COMMIT, to every server
  process listening) and :func:`committed` right after (this process's waiters at once: on
  SQLite, a single server process, this is the only signal);
* on PostgreSQL each server process runs one listener thread (started with the first
  waiting request) that turns notifications from any process into local wake-ups.

A waiter registers before it reads, so a commit between the read and the wait is never
missed: the wait then returns at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "sygesikring_changes"
MAX_WAIT = 60.0  # seconds a long-poll may ask for
WAIT_DOC = ("seconds to wait for a change after `cursor` (long-poll; `/health` says `notify`): "
            "answered at once when there is one, else when one is committed, else empty when the time is up")


class Notifier:
    """The waiters of one server process, and (PostgreSQL) its listener thread."""

    def __init__(self, dsn: str | None = None) -> None:
        self.dsn = dsn  # a libpq DSN to LISTEN on (PostgreSQL), or None (SQLite)
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._listener: threading.Thread | None = None
        self._closed = False
        self.wakeups = 0

    def wake(self) -> None:
        """Something was committed: every waiter reads again."""
        with self._lock:
            self.wakeups += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that request's loop is gone
                pass

    def close(self) -> None:
        self._closed = True
        self.wake()

    # -- the waiting side ----------------------------------------------------------------
    async def pull(self, storage: Any, desk: Any, cursor: int, limit: int, wait: float
                   ) -> tuple[list[tuple[Any, ...]], int, bool]:
        """:meth:`Storage.pull`, waiting up to ``wait`` seconds for a non-empty page."""
        from starlette.concurrency import run_in_threadpool

        if wait <= 0:
            return await run_in_threadpool(storage.pull, desk, cursor, limit)
        self._ensure_listener()
        deadline = time.monotonic() + min(wait, MAX_WAIT)
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.add(entry)
        try:
            while True:
                event.clear()  # registered before the read: a commit after it sets the event
                page, nxt, more = await run_in_threadpool(storage.pull, desk, cursor, limit)
                left = deadline - time.monotonic()
                if page or left <= 0 or self._closed:
                    return page, nxt, more
                try:
                    await asyncio.wait_for(event.wait(), left)
                except (TimeoutError, asyncio.TimeoutError):
                    pass
        finally:
            with self._lock:
                self._waiters.discard(entry)

    # -- PostgreSQL: LISTEN in a thread --------------------------------------------------
    def _ensure_listener(self) -> None:
        if self.dsn is None or self._closed:
            return
        with self._lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._listener = threading.Thread(target=_listen, args=(weakref.ref(self), self.dsn),
                                              name="sygesikring-notify", daemon=True)
            self._listener.start()


def _listen(ref: weakref.ReferenceType[Notifier], dsn: str) -> None:
    """LISTEN on :data:`CHANNEL` and wake the notifier's waiters for every notification
    (from any server process). Ends when the notifier is gone or closed, or the connection
    fails (the next waiting request starts a new listener)."""
    import psycopg

    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            me = ref()
            if me is None:
                return
            me.wake()  # anything committed before LISTEN took effect is read again
            del me
            while True:
                me = ref()
                if me is None or me._closed:
                    return
                del me
                got = False
                for _n in conn.notifies(timeout=1.0):
                    got = True
                    break
                if got:
                    me = ref()
                    if me is None:
                        return
                    me.wake()
                    del me
    except Exception as exc:  # noqa: BLE001 - a lost listener is not fatal: waits time out
        log.warning("change notification listener stopped: %s", type(exc).__name__)
        me = ref()
        if me is not None:
            me.wake()


# -- the writing side (hooks in the storage's write transaction) ---------------------------
def in_transaction(conn: Any, head: int) -> None:
    """Inside a writing transaction that moved the log head to ``head``: on PostgreSQL,
    queue a notification that PostgreSQL delivers to every listener at COMMIT."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_notify('{CHANNEL}', '{int(head)}')")


def committed(storage: Any) -> None:
    """Right after a writing transaction committed: wake this process's waiters."""
    notifier = getattr(storage, "notifier", None)
    if notifier is not None:
        notifier.wake()


def closed(storage: Any) -> None:
    """The storage is closing: waiters answer now, the listener thread ends."""
    notifier = getattr(storage, "notifier", None)
    if notifier is not None:
        notifier.close()


def notifier_for(storage: Any) -> Notifier:
    """The storage's notifier, made on first use (PostgreSQL: with its DSN to LISTEN on)."""
    n = getattr(storage, "notifier", None)
    if n is None:
        dsn = None
        if not storage.is_sqlite:
            dsn = storage.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        n = Notifier(dsn)
        storage.notifier = n
    return n
