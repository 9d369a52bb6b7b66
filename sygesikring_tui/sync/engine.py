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
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..store import Store, open_store
from ..store import sync_state
from .client import SyncClient, SyncError

log = logging.getLogger(__name__)

PUSH_BATCH = 500
PULL_PAGE = 5000


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


def _wire(row: dict[str, Any]) -> dict[str, Any]:
    return {"op_id": row["op_id"], "kind": row["kind"], "cpr": row["cpr"], "payload": row["payload"],
            "base_version": row["base_version"], "case_id": row["case_id"]}


def push(store: Store, client: SyncClient, batch: int = PUSH_BATCH, report: SyncReport | None = None) -> SyncReport:
    """Send every pending operation; raises :class:`SyncError` when a request fails."""
    report = report or SyncReport()
    if store.is_training:
        raise TrainingRefused()
    after = 0
    while True:
        rows = [r for r in store.outbox("pending") if r["seq"] > after][:batch]
        if not rows:
            return report
        after = rows[-1]["seq"]
        wire = [_wire(r) for r in rows]
        try:
            answers = client.push(wire, training=False)
        except SyncError as exc:
            if exc.kind == "protocol" and exc.status == 422 and len(wire) > 1:
                answers = _isolate(client, wire)
            elif exc.kind == "protocol" and exc.status == 422:
                answers = [_local_reject(wire[0]["op_id"], exc.detail)]
            else:
                raise
        counts = sync_state.record_answers(store, answers)
        report.pushed += len(wire)
        report.applied += counts["applied"]
        report.conflicts += counts["conflict"]
        report.rejected += counts["rejected"]


def _local_reject(op_id: str, detail: str) -> dict[str, Any]:
    return {"op_id": op_id, "status": "rejected", "reasons": [{"code": "sync.refused", "params": {"detail": detail}}]}


def _isolate(client: SyncClient, wire: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A batch was refused as a whole (an op_id reused with another body): send one by one
    so only the bad operation is marked rejected."""
    out = []
    for op in wire:
        try:
            out.extend(client.push([op], training=False))
        except SyncError as exc:
            if exc.kind == "protocol" and exc.status == 422:
                out.append(_local_reject(op["op_id"], exc.detail))
            else:
                raise
    return out


def pull(store: Store, client: SyncClient, page: int = PULL_PAGE, report: SyncReport | None = None) -> SyncReport:
    """Page through the server's changes after the stored cursor.

    Each page and its cursor are written in one transaction. The next page is fetched in a
    helper thread while this one is written (the server's work, the transfer and the JSON
    decoding overlap the desk's SQLite writes); the fetch never touches the store.
    """
    report = report or SyncReport()
    cur = sync_state.cursor(store)
    with ThreadPoolExecutor(1, thread_name_prefix="sync-pull") as pool:
        nxt = pool.submit(client.pull, cur, page)
        while True:
            r = nxt.result()
            more = bool(r.get("more"))
            if more:
                nxt = pool.submit(client.pull, int(r["cursor"]), page)
            changes = r.get("changes", [])
            with store.transaction():
                persons = [c for c in changes if c["kind"] in ("person", "removal")]
                provs = [c["doc"] for c in changes if c["kind"] == "provider"]
                sync_state.install_providers(store, provs)
                sync_state.install_states(store, persons)
                sync_state.release_held(store)
                cur = int(r["cursor"])
                sync_state.put(store, sync_state.CURSOR, str(cur))
            report.pulled += sum(1 for c in persons if c["kind"] == "person")
            if not more:
                return report


def sync_once(store: Store, client: SyncClient) -> SyncReport:
    """Push, then pull; records online/offline and the last sync in the store."""
    report = SyncReport()
    try:
        push(store, client, report=report)
        pull(store, client, report=report)
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
    """

    def __init__(self, store_path: Path | str, server: str, token: str, *, interval: float = 5.0,
                 on_status: Callable[[sync_state.SyncStatus], None] | None = None,
                 client: SyncClient | None = None, rng: random.Random | None = None) -> None:
        self.store_path = Path(store_path)
        self.client = client or SyncClient(server, token)
        self.interval = interval
        self.on_status = on_status
        self.rng = rng or random.Random()
        self.failures = 0
        self._wake = threading.Event()
        self._stop = threading.Event()

    def wake(self) -> None:
        """Sync now (e.g. right after a case was committed)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run_round(self, store: Store) -> float:
        """One round; returns the delay before the next."""
        try:
            sync_once(store, self.client)
            self.failures = 0
            delay = self.interval
        except SyncError as exc:
            if exc.kind == "training":
                log.warning("sync refused: %s", exc)
                self._stop.set()
                delay = 0.0
            else:
                self.failures += 1
                delay = backoff_delay(self.failures, self.rng)
                log.info("sync failed (%s), retry in %.1fs", exc, delay)
        except Exception:  # never let the worker die silently; keep the desk working
            log.exception("sync round failed")
            self.failures += 1
            delay = backoff_delay(self.failures, self.rng)
        if self.on_status is not None:
            try:
                self.on_status(sync_state.status(store))
            except Exception:
                log.exception("status callback failed")
        return delay

    def run(self) -> None:
        store = open_store(self.store_path, create=False)
        try:
            if store.is_training:
                sync_state.record_outcome(store, online=False, error=str(TrainingRefused()))
                log.warning("not syncing: %s is a training store", self.store_path)
                return
            while not self._stop.is_set():
                delay = self.run_round(store)
                self._wake.wait(delay)
                self._wake.clear()
        finally:
            store.close()
            self.client.close()
