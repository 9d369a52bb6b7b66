"""Turn a desk training store into a ``sygesikring-server load`` file.

The real CPR and Sygesikring feeds are out of reach; a demo server runs on the synthetic
data the training generator made. The file is JSON lines in the domain codec:
``{"type": "provider", "provider": {...}}`` and ``{"type": "person", "state": {...}}``, and for a
municipality the training team (``{"type": "caseworker", ...}``, no secret: ``load`` makes one
for each and prints it once), whose claims the persons' tasks carry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..domain.model import to_json
from ..store import open_store


def training_records(store_path: Path | str, municipality: int | None) -> Iterator[dict[str, Any]]:
    """Providers (all), then the persons of ``municipality`` (None: every person) with their tasks."""
    store = open_store(store_path, create=False)
    try:
        for p in store.providers().values():
            yield {"type": "provider", "provider": to_json(p)}
        if municipality is not None:
            from ..training import TEAM

            for initials, name, lead in TEAM:
                yield {"type": "caseworker", "municipality": municipality, "initials": initials, "name": name,
                       "team_lead": lead}
        where, args = ("municipality_code = ?", [municipality]) if municipality is not None else (None, [])
        cprs = [r["cpr"] for r in store.db["persons"].rows_where(where, args, select="cpr", order_by="cpr")]
        for cpr in cprs:
            state = store.load_person(cpr)
            if state is not None:
                yield {"type": "person", "state": to_json(state)}
    finally:
        store.close()


def export_training(store_path: Path | str, municipality: int | None, out: Path | str) -> int:
    """Write the load file; returns the number of records."""
    n = 0
    with Path(out).open("w", encoding="utf-8") as fh:
        for rec in training_records(store_path, municipality):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    return n
