"""Retirement by release: which Sygesikring releases are live in production.

When a release is live, the workarounds planned for it stop being suggested, starting one
warns that the fault is fixed, and ``sygesikring-tui workarounds`` shows them as retired.
The set is kept in a small JSON file in the user config dir (one desk machine, every
store); marking is undoable. Each store remembers the set its task suggestions were last
computed with, and is brought up to date when opened.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

from .catalogue import Catalogue
from .paths import user_data_dir
from .store.db import Store


def releases_file() -> Path:
    return user_data_dir() / "releases.json"


def live_releases(path: Path | None = None) -> frozenset[str]:
    path = path or releases_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return frozenset()
    except (OSError, ValueError):
        # A damaged file must not stop the desk: treat as nothing live (the safe side:
        # every workaround stays available) and let the caller warn.
        return frozenset()
    return frozenset(str(r) for r in data.get("live", []))


def live_since(path: Path | None = None) -> dict[str, date]:
    """The day each live release was marked live (releases marked before the day was kept
    have none): the fault-cost report marks the retirement there."""
    path = path or releases_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        since = data.get("since") or {}
        live = {str(r) for r in data.get("live", [])}
        return {str(r): date.fromisoformat(d) for r, d in since.items() if str(r) in live}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def known_releases(cat: Catalogue) -> list[str]:
    return sorted({w.release for w in cat.workarounds.values() if w.release})


def set_live(release: str, live: bool, cat: Catalogue, path: Path | None = None,
             today: date | None = None) -> frozenset[str]:
    """Mark ``release`` live on ``today`` (or undo it). Raises ValueError for a release no
    workaround names."""
    if release not in known_releases(cat):
        raise ValueError(release)
    path = path or releases_file()
    current = set(live_releases(path))
    since = {r: d.isoformat() for r, d in live_since(path).items()}
    if live:
        if release not in current:
            since[release] = (today or date.today()).isoformat()
        current.add(release)
    else:
        current.discard(release)
        since.pop(release, None)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"live": sorted(current), "since": dict(sorted(since.items()))}, f)
    os.replace(tmp, path)
    return frozenset(current)


def resuggest(store: Store, cat: Catalogue, live: frozenset[str], today: date) -> int:
    """Recompute the suggested workaround of open tasks after the live set changed.

    Only event codes with a suggestion rule that names a workaround of a changed release
    are looked at. Returns how many tasks changed.
    """
    before = frozenset(json.loads(store.meta("suggestions_live") or "[]"))
    if before == live:
        return 0
    changed_releases = before ^ live
    changed_ids = {w.id for w in cat.workarounds.values() if w.release in changed_releases}
    codes = sorted({r.event_code for r in cat.suggestion_rules if r.workaround in changed_ids})
    changed = 0
    with store.transaction():
        if codes:
            marks = ",".join("?" * len(codes))
            rows = store.conn.execute(
                f"SELECT id, cpr, event_code, workaround_id FROM tasks WHERE status = 'open' AND event_code IN ({marks})",
                codes,
            ).fetchall()
            states: dict[str, object] = {}
            updates = []
            for task_id, cpr, code, old in rows:
                state = states.get(cpr) or store.load_person(cpr)
                states[cpr] = state
                new = cat.suggest(code, state, today, store.provider, live).workaround_id
                if new != old:
                    updates.append((new, task_id))
            store.conn.executemany("UPDATE tasks SET workaround_id = ? WHERE id = ?", updates)
            changed = len(updates)
        store.set_meta("suggestions_live", json.dumps(sorted(live)))
    return changed
