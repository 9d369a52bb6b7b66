"""Generated training stores for the benchmarks, cached by size and seed.

``training.build`` is deterministic for (tasks, seed, today), so a cached file is reused; a
build goes to a temporary name first (training.build is atomic), so an interrupted build
never leaves a half store under the cache name.
"""

from __future__ import annotations

import shutil
import sys
import time
from datetime import date
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
TODAY = date(2026, 11, 25)
SEED = 2024


def store_path(tasks: int, seed: int = SEED) -> Path:
    return CACHE / f"tasks-{tasks}-seed-{seed}.db"


def ensure_store(tasks: int, seed: int = SEED, *, quiet: bool = False) -> Path:
    """The cached store with ``tasks`` tasks, built now if missing."""
    from sygesikring_tui import training

    path = store_path(tasks, seed)
    if path.exists():
        _migrate(path)
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    step = max(tasks // 50, 1)

    def progress(done: int, total: int) -> None:
        if not quiet and (done % step == 0 or done == total):
            print(f"\r  building {tasks:,}-task store: {done:,}/{total:,}", end="", file=sys.stderr, flush=True)

    stats = training.build(path, tasks=tasks, seed=seed, today=TODAY, progress=progress)
    if not quiet:
        print(f"\r  built {path.name} in {time.perf_counter() - t0:.0f} s ({stats})", file=sys.stderr)
    return path


def _migrate(path: Path) -> None:
    """Bring a store cached by an earlier version up to the current schema now, so that no
    measurement pays for a migration."""
    from sygesikring_tui.store import open_store

    open_store(path, create=False).close()


def scratch_copy(src: Path, dest_dir: Path) -> Path:
    """A private copy of a cached store (for benchmarks that write)."""
    dest = dest_dir / src.name
    shutil.copyfile(src, dest)
    dest.chmod(0o600)
    return dest
