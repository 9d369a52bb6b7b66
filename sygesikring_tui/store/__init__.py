"""The desk's local SQLite case store."""

from .db import Store, StoreError, open_store

__all__ = ["Store", "StoreError", "open_store"]
