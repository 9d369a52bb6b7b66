"""Push the outbox, pull changes, and the background worker loop (no Textual here).

One sync round is push, then pull. Push sends pending operations in outbox order, in
batches; the answers are written to the outbox (:func:`store.sync_state.record_answers`).
A request that fails in any way leaves the operations pending: the next round sends them
again with the same ``op_id``, and the server answers ``duplicate`` for any it had already
applied, so a lost answer never applies an operation twice. Pull pages through the
server's changes after the stored cursor; each page and its cursor are written in one
transaction, so a crash mid-pull resumes where it stopped.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..store import Store, open_store
from ..store import session, sync_state
from ..domain.cpr import mask
from ..logs import mask_text
from .client import SyncClient, SyncError

if TYPE_CHECKING:
    from ..store.pulled import Page

log = logging.getLogger(__name__)

PUSH_BATCH = 500
PULL_PAGE = 5000
FIRST_PULL_PAGE = 1000  # the first page of a pull: small, so the desk starts writing at once
PULL_AHEAD = 1  # pages fetched and waiting to be written (a page of 5000 persons: ~6 MB of JSON)
SERVER_ERROR_LIMIT = 3  # the same 5xx this many times in a row: the operation is held
OFFLINE_PROBE_CAP = 2.0  # seconds: while offline, /health is probed at least this often
NOTIFY_WAIT = 20.0  # seconds one long-poll for changes stays open


class TrainingRefused(SyncError):
    def __init__(self) -> None:
        super().__init__("training", "a training store never pushes")


@dataclass
class SyncReport:
    pushed: int = 0
    applied: int = 0
    conflicts: int = 0
    rejected: int = 0
    pulled: int = 0
    server_errors: int = 0  # operations held as a server error in this round
    retry_soon: bool = False  # an operation got a 5xx and is not held yet: try again soon


def _wire(row: dict[str, Any]) -> dict[str, Any]:
    return {"op_id": row["op_id"], "kind": row["kind"], "cpr": row["cpr"], "payload": row["payload"],
            "base_version": row["base_version"], "case_id": row["case_id"]}


def push(store: Store, client: SyncClient, batch: int = PUSH_BATCH, report: SyncReport | None = None) -> SyncReport:
    """Send every pending operation; raises :class:`SyncError` when a request fails.

    A batch the server answers with a 5xx is split (in order) until the failing operations
    are alone; the others are answered as usual, and later operations on a failing
    operation's person wait for it. When ``/health`` still answers, the server is up and the
    fault lies with those operations: each is counted, and one that failed the same way
    :data:`SERVER_ERROR_LIMIT` times in a row is held as a server error
    (:func:`store.sync_state.hold_server_error`) so it never jams the outbox. When
    ``/health`` fails too the server is down: nothing is counted and the error is raised.
    """
    report = report or SyncReport()
    if store.is_training:
        raise TrainingRefused()
    after = 0
    while True:
        rows = store.outbox("pending", limit=batch, after=after)  # (not the whole queue each batch)
        if not rows:
            return report
        after = rows[-1]["seq"]
        wire = [_wire(r) for r in rows]
        answers, failed = _push_split(client, wire, _HealthOnce(client))
        if failed:
            _server_fault(store, client, failed, report)
        counts = sync_state.record_answers(store, answers)
        report.pushed += len(answers)
        report.applied += counts["applied"]
        report.conflicts += counts["conflict"]
        report.rejected += counts["rejected"]


def _local_reject(op_id: str, detail: str) -> dict[str, Any]:
    return {"op_id": op_id, "status": "rejected", "reasons": [{"code": "sync.refused", "params": {"detail": detail}}]}


class _HealthOnce:
    """Asks ``/health`` once: a 5xx from a server whose health fails is an outage (raised as
    is), not a fault of the operations sent, so the batch is not split."""

    def __init__(self, client: SyncClient) -> None:
        self.client = client
        self.ok: bool | None = None

    def check(self, exc: SyncError) -> None:
        if self.ok is None:
            try:
                self.client.health()
                self.ok = True
            except SyncError:
                self.ok = False
        if not self.ok:
            raise exc


def _push_split(client: SyncClient, wire: list[dict[str, Any]], health: _HealthOnce
                ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], SyncError]]]:
    """Push ``wire``; a batch refused as a whole (422: an op_id reused with another body;
    5xx: something in it breaks the server) is split in halves, in order, until the bad
    operations are alone. Returns the answers and the operations that got a 5xx alone;
    operations after a failing one on the same person are left out (they wait for it)."""
    try:
        return client.push(wire, training=False), []
    except SyncError as exc:
        if exc.kind == "protocol" and exc.status == 422:
            if len(wire) == 1:
                return [_local_reject(wire[0]["op_id"], exc.detail)], []
        elif not (exc.kind == "server" and exc.status is not None):
            raise  # offline, auth: nothing to split
        else:
            health.check(exc)
            if len(wire) == 1:
                return [], [(wire[0], exc)]
    mid = len(wire) // 2
    answers, failed = _push_split(client, wire[:mid], health)
    waiting = {op["cpr"] for op, _ in failed}
    rest = [op for op in wire[mid:] if op["cpr"] not in waiting]
    if rest:
        more, more_failed = _push_split(client, rest, health)
        answers += more
        failed += more_failed
    return answers, failed


def _server_fault(store: Store, client: SyncClient, failed: list[tuple[dict[str, Any], SyncError]],
                  report: SyncReport) -> None:
    """Operations the server answered with a 5xx one by one: count them while the server is
    otherwise up (``/health`` answered), hold each that reached the limit (see :func:`push`)."""
    for op, exc in failed:
        text = f"HTTP {exc.status}: {mask_text(exc.detail)}".strip()
        n = sync_state.count_server_error(store, op["op_id"], text)
        log.warning("operation %s on %s: server error %d/%d (%s)", op["op_id"], mask(op["cpr"]), n,
                    SERVER_ERROR_LIMIT, text)
        if n >= SERVER_ERROR_LIMIT:
            try:
                server_state = client.person(op["cpr"])
            except SyncError:
                server_state = None
            sync_state.hold_server_error(store, op["op_id"], text, server_state)
            report.server_errors += 1
        else:
            report.retry_soon = True


def pull(store: Store, client: SyncClient, page: int = PULL_PAGE, report: SyncReport | None = None) -> SyncReport:
    """Page through the server's changes after the stored cursor.

    Each page and its cursor are written in one transaction. A helper thread fetches the
    pages one after another while they are written, up to :data:`PULL_AHEAD` pages ahead
    (the server's work, the transfer and the decoding overlap the desk's SQLite writes, and
    neither side waits for the other page by page); the fetch never touches the store. The
    first page is small (:data:`FIRST_PULL_PAGE`), so the writing starts at once. A page is
    decoded straight into typed records, checked as they are read (store/pulled.py): a page
    that is not what the API promises is refused whole (``SyncError("server")``), the pages
    before it stay written.
    """
    report = report or SyncReport()
    fetched: queue.Queue[Page | BaseException] = queue.Queue(maxsize=PULL_AHEAD)
    stop = threading.Event()

    def hand_over(item: Page | BaseException) -> None:
        while not stop.is_set():
            try:
                fetched.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def fetch(cursor: int) -> None:
        size = min(page, FIRST_PULL_PAGE)
        try:
            while not stop.is_set():
                r = client.changes(cursor, size)
                hand_over(r)
                if not r.more:
                    return
                cursor, size = r.cursor, page
        except BaseException as exc:  # noqa: BLE001 - raised in the writing thread
            hand_over(exc)

    fetcher = threading.Thread(target=fetch, args=(sync_state.cursor(store),), name="sync-pull", daemon=True)
    fetcher.start()
    try:
        while True:
            r = fetched.get()
            if isinstance(r, BaseException):
                raise r
            with store.transaction():
                report.pulled += sync_state.install_page(store, r)
            if not r.more:
                return report
    finally:
        stop.set()
        fetcher.join()


def sync_once(store: Store, client: SyncClient, page: int = PULL_PAGE) -> SyncReport:
    """Push, then pull (``page`` changes a request); records online/offline and the last
    sync in the store. The signed-in caseworker's session goes with the requests (audit)."""
    report = SyncReport()
    client.session = session.session_token(store)
    try:
        push(store, client, report=report)
        pull(store, client, page=page, report=report)
    except SyncError as exc:
        sync_state.record_outcome(store, online=exc.kind not in ("offline", "server"), error=str(exc))
        raise
    sync_state.record_outcome(store, online=True, synced=True)
    return report


def backoff_delay(failures: int, rng: random.Random, base: float = 1.0, cap: float = 60.0) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**failures)]."""
    return rng.uniform(0, min(cap, base * (2 ** min(failures, 16))))


class SyncWorker:
    """The background loop: sync, wait ``interval`` (or the backoff after a failure), repeat.

    Runs in a thread (the UI starts :meth:`run` in a Textual thread worker); it opens its own
    connection to the desk store. ``on_status(SyncStatus)`` is called after every round.

    * Offline (no answer, or a server that is down): before the next round ``/health`` is
      probed, with a backoff capped at :data:`OFFLINE_PROBE_CAP` seconds, so pending work
      reaches a returning server within seconds.
    * When the server offers change notification (``/health`` says ``"notify"``), a second
      thread keeps ONE long-poll open on ``/v1/changes?wait=`` with the desk's cursor and
      wakes the loop when it returns changes; otherwise the loop polls every ``interval``.
    """

    def __init__(self, store_path: Path | str, server: str, token: str, *, interval: float = 5.0,
                 on_status: Callable[[sync_state.SyncStatus], None] | None = None,
                 client: SyncClient | None = None, rng: random.Random | None = None,
                 notify: bool = True, notify_wait: float = NOTIFY_WAIT) -> None:
        self.store_path = Path(store_path)
        self.client = client or SyncClient(server, token)
        self.interval = interval
        self.on_status = on_status
        self.rng = rng or random.Random()
        self.failures = 0
        self.down = False  # the last round found the server unreachable or down
        self.use_notify = notify
        self.notify_wait = notify_wait
        self.notify_offered: bool | None = None  # what /health said (None: not asked yet)
        self.cursor = 0  # the desk's cursor after the last round (for the long-poll)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._round_done = threading.Event()
        self._watcher: threading.Thread | None = None

    def wake(self) -> None:
        """Sync now (e.g. right after a case was committed)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._round_done.set()

    def _probe(self) -> bool:
        """Ask ``/health``; remembers whether the server offers change notification."""
        try:
            h = self.client.health()
        except SyncError:
            return False
        self.notify_offered = bool(h.get("notify")) if isinstance(h, dict) else False
        return True

    def run_round(self, store: Store) -> float:
        """One round; returns the delay before the next."""
        try:
            if (self.down or self.notify_offered is None) and not self._probe():
                exc = SyncError("offline", "no answer from /health")
                sync_state.record_outcome(store, online=False, error=str(exc))
                raise exc
            report = sync_once(store, self.client)
            self.failures = 0
            self.down = False
            delay = self.interval
            if report.retry_soon:  # an operation got a 5xx: count it again soon
                delay = backoff_delay(1, self.rng, base=0.5, cap=OFFLINE_PROBE_CAP)
        except SyncError as exc:
            if exc.kind == "training":
                log.warning("sync refused: %s", exc)
                self._stop.set()
                delay = 0.0
            else:
                self.failures += 1
                self.down = exc.kind in ("offline", "server")
                cap = OFFLINE_PROBE_CAP if self.down else 60.0
                delay = backoff_delay(self.failures, self.rng, base=0.25 if self.down else 1.0, cap=cap)
                log.info("sync failed (%s), retry in %.1fs", exc, delay)
        except Exception:  # never let the worker die silently; keep the desk working
            log.exception("sync round failed")
            self.failures += 1
            delay = backoff_delay(self.failures, self.rng)
        self.cursor = sync_state.cursor(store)
        self._round_done.set()
        if self.on_status is not None:
            try:
                self.on_status(sync_state.status(store))
            except Exception:
                log.exception("status callback failed")
        return delay

    def _watch(self) -> None:
        """The long-poll thread: one open ``/v1/changes?wait=`` at a time; wakes the loop
        when the server has changes after the desk's cursor, then waits for that round."""
        while not self._stop.is_set():
            if not self.notify_offered or self.down:
                self._stop.wait(0.5)
                continue
            try:
                r = self.client.pull(self.cursor, 1, wait=self.notify_wait)
            except Exception as exc:  # noqa: BLE001 - incl. a client closed under it at stop
                if not self._stop.is_set():
                    log.info("change notification failed (%s); polling meanwhile", exc)
                self._stop.wait(OFFLINE_PROBE_CAP)
                continue
            if r.get("changes"):
                self._round_done.clear()
                self.wake()
                self._round_done.wait(self.interval)

    def run(self) -> None:
        store = open_store(self.store_path, create=False)
        try:
            if store.is_training:
                sync_state.record_outcome(store, online=False, error=str(TrainingRefused()))
                log.warning("not syncing: %s is a training store", self.store_path)
                return
            if self.use_notify:
                self._watcher = threading.Thread(target=self._watch, name="sync-notify", daemon=True)
                self._watcher.start()
            while not self._stop.is_set():
                delay = self.run_round(store)
                self._wake.wait(delay)
                self._wake.clear()
        finally:
            self._stop.set()
            self._round_done.set()
            if self._watcher is not None:
                # A long-poll in flight ends by itself (the thread is a daemon, the app may quit).
                self._watcher.join(1.0)
            store.close()
            self.client.close()
