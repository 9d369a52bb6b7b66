"""Desk-side sync with the server: httpx client, push/pull, background worker (no Textual).

For the UI: ``status(store)`` for the status bar, ``conflicts(store)`` for the inbox items,
``resolve(store, op_id, "redo"|"drop", note)``, and ``SyncWorker(path, server, token)`` whose
``run()`` goes in a thread worker.
"""

from ..store.sync_state import ConflictItem, SyncStatus, conflicts, resolve, status
from .client import SyncClient, SyncError
from .engine import SyncReport, SyncWorker, TrainingRefused, backoff_delay, pull, push, sync_once

__all__ = [
    "ConflictItem", "SyncClient", "SyncError", "SyncReport", "SyncStatus", "SyncWorker", "TrainingRefused",
    "backoff_delay", "conflicts", "pull", "push", "resolve", "status", "sync_once",
]
