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
from dataclasses import dataclass
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


def _suggestion_changes(store: Store, cat: Catalogue, before: frozenset[str], live: frozenset[str],
                        today: date) -> list[tuple[str | None, str, str | None]]:
    """(new workaround, task id, old workaround) of each open task whose suggestion changes
    when the live set goes from ``before`` to ``live``. Only event codes with a suggestion
    rule that names a workaround of a changed release are looked at."""
    changed_releases = before ^ live
    changed_ids = {w.id for w in cat.workarounds.values() if w.release in changed_releases}
    codes = sorted({r.event_code for r in cat.suggestion_rules if r.workaround in changed_ids})
    if not codes:
        return []
    marks = ",".join("?" * len(codes))
    rows = store.conn.execute(
        f"SELECT id, cpr, event_code, workaround_id FROM tasks WHERE status = 'open' AND event_code IN ({marks})",
        codes,
    ).fetchall()
    states: dict[str, object] = {}
    out = []
    for task_id, cpr, code, old in rows:
        state = states.get(cpr) or store.load_person(cpr)
        states[cpr] = state
        new = cat.suggest(code, state, today, store.provider, live).workaround_id
        if new != old:
            out.append((new, task_id, old))
    return out


@dataclass(frozen=True)
class Impact:
    """What marking a release live would change: the workarounds that stop being suggested
    (their guide sections) and how many open tasks of the store lose that suggestion."""

    release: str
    sections: tuple[str, ...]
    tasks: int


def impact(store: Store | None, cat: Catalogue, release: str, today: date,
           live: frozenset[str] | None = None) -> Impact:
    """What :func:`set_live` (then :func:`resuggest`) would change for ``release``; nothing
    is written. ``store`` None: the sections only."""
    live = live_releases() if live is None else live
    sections = tuple(sorted((w.id for w in cat.workarounds.values() if w.release == release),
                            key=lambda i: [int(x) for x in i.split(".")]))
    if store is None or release in live:
        return Impact(release, sections, 0)
    changes = _suggestion_changes(store, cat, live, live | {release}, today)
    return Impact(release, sections, sum(1 for _new, _tid, old in changes if old in sections))


def resuggest(store: Store, cat: Catalogue, live: frozenset[str], today: date) -> int:
    """Recompute the suggested workaround of open tasks after the live set changed.
    Returns how many tasks changed."""
    before = frozenset(json.loads(store.meta("suggestions_live") or "[]"))
    if before == live:
        return 0
    with store.transaction():
        updates = [(new, task_id) for new, task_id, _old in _suggestion_changes(store, cat, before, live, today)]
        store.conn.executemany("UPDATE tasks SET workaround_id = ? WHERE id = ?", updates)
        store.set_meta("suggestions_live", json.dumps(sorted(live)))
    return len(updates)
