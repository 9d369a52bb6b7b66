"""The backend: the system of record for the desks of one or more municipalities.

``storage`` holds persons, providers, the operation log and the audit log on SQLite or
PostgreSQL (SQLAlchemy Core, one code path); ``app`` is the FastAPI application; ``cli`` is
the ``sygesikring-server`` command. The domain rules are applied here with the same code
the desks use (:mod:`sygesikring_tui.domain.operations`).
"""
