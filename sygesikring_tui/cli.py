"""The ``sygesikring-tui`` command: launch the desk app, build training data, list workarounds.

Importing this module never imports Textual: the UI is imported only when launched.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import i18n, logs, paths
from .store import StoreError

log = logging.getLogger(__name__)

DEFAULT_TRAINING_TASKS = 5000
DEFAULT_SEED = 2024


def store_error_text(exc: StoreError) -> str:
    return i18n.t(f"store.{exc.code}", path=str(exc.path), detail=exc.detail)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="sygesikring-tui", description="Sygesikring desk app for Borgerservice")
    ap.add_argument("--lang", choices=i18n.LANGUAGES, help="UI language (default: da)")
    ap.add_argument("--store", type=Path, help="case store file (default: the training store)")
    ap.add_argument("--server", metavar="URL", help="sync with this sygesikring-server (desk store by default)")
    ap.add_argument("--token-file", type=Path, metavar="F", help="file holding the desk's token (with --server)")
    sub = ap.add_subparsers(dest="command")
    tr = sub.add_parser("training", help="(re)build a synthetic training store")
    tr.add_argument("--tasks", type=int, default=DEFAULT_TRAINING_TASKS)
    tr.add_argument("--seed", type=int, default=DEFAULT_SEED)
    tr.add_argument("--path", type=Path, help="store file (default: the default training store)")
    sub.add_parser("workarounds", help="print the workaround catalogue")
    rel = sub.add_parser("release", help="mark a Sygesikring release as live in production (or undo)")
    rel.add_argument("version", help="the release, e.g. 1.1")
    mode = rel.add_mutually_exclusive_group(required=True)
    mode.add_argument("--in-production", action="store_true", help="the release is live: retire its workarounds")
    mode.add_argument("--undo", action="store_true", help="the release is not live after all")
    rel.add_argument("--yes", "-y", action="store_true",
                     help="do not ask for confirmation (needed when not run in a terminal)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.lang:
        i18n.set_language(args.lang)
    try:
        if args.command == "training":
            return cmd_training(args)
        if args.command == "workarounds":
            return cmd_workarounds(args)
        if args.command == "release":
            return cmd_release(args)
        return cmd_launch(args)
    except StoreError as exc:
        print(store_error_text(exc), file=sys.stderr)
        return 2


def cmd_training(args: argparse.Namespace) -> int:
    from . import training

    path = args.path or paths.default_training_store()
    if args.tasks < 0:
        print("--tasks must be 0 or more", file=sys.stderr)
        return 2

    def progress(done: int, total: int) -> None:
        print(f"\r{done:>9,} / {total:,} opgaver", end="", file=sys.stderr, flush=True)

    guard = _training_target(path)  # held (locked) while the store is rebuilt
    try:
        stats = training.build(path, tasks=args.tasks, seed=args.seed, progress=progress)
    finally:
        if guard is not None:
            guard.close()
    print(file=sys.stderr)
    print(f"Træningsdatabase: {path} ({stats})")
    return 0


def _training_target(path: Path):
    """The store ``training`` is about to replace, opened and locked; None when there is
    none yet. Raises :class:`StoreError` (naming the file) when it is in use, not a case
    store (an empty file included), or a real desk store (its outbox would be lost)."""
    from .store import open_store

    if not path.exists():
        return None
    store = open_store(path, create=False, exclusive=True)
    if not store.is_training:
        store.close()
        raise StoreError("not_training", path, "a desk store, not a training store")
    return store


def cmd_workarounds(args: argparse.Namespace) -> int:
    from .catalogue import load_catalogue

    from .releases import live_releases

    cat = load_catalogue()
    for line in cat.table_lines(i18n.language(), live_releases=live_releases()):
        print(line)
    return 0


def _release_stores(args: argparse.Namespace) -> list[Path]:
    return [Path(p) for p in dict.fromkeys((args.store, paths.default_training_store(), paths.default_desk_store()))
            if p is not None and Path(p).exists()]


def _confirm_release(args: argparse.Namespace, cat: object) -> bool:
    """Say what marking the release live stops suggesting, then ask (``--yes``: do not ask;
    not in a terminal and no ``--yes``: refuse, nothing changed)."""
    from datetime import date

    from . import releases
    from .store import open_store

    print(i18n.t("release.confirm.sections", release=args.version,
                 sections=", ".join(releases.impact(None, cat, args.version, date.today()).sections)))
    for path in _release_stores(args):
        with open_store(path, create=False) as store:
            n = releases.impact(store, cat, args.version, date.today()).tasks
        print(i18n.t("release.confirm.tasks", n=n, path=str(path)))
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print(i18n.t("release.confirm.needs_yes"), file=sys.stderr)
        return False
    answer = input(i18n.t("release.confirm.prompt") + " ").strip().lower()
    return answer in ("j", "ja", "y", "yes")


def cmd_release(args: argparse.Namespace) -> int:
    from datetime import date

    from . import releases
    from .catalogue import load_catalogue
    from .store import open_store

    cat = load_catalogue()
    if args.version not in releases.known_releases(cat):
        known = ", ".join(releases.known_releases(cat))
        print(i18n.t("release.unknown", release=args.version, known=known), file=sys.stderr)
        return 2
    if args.in_production and args.version not in releases.live_releases() and not _confirm_release(args, cat):
        print(i18n.t("release.confirm.cancelled", release=args.version))
        return 1
    live = releases.set_live(args.version, bool(args.in_production), cat)
    retired = sorted(w.id for w in cat.workarounds.values() if w.release == args.version)
    key = "release.live" if args.in_production else "release.undone"
    print(i18n.t(key, release=args.version, sections=", ".join(retired)))
    for path in _release_stores(args):
        with open_store(path, create=False) as store:
            n = releases.resuggest(store, cat, live, date.today())
        print(i18n.t("release.resuggested", count=n, path=str(path)))
    return 0


def _bring_suggestions_up_to_date(path: Path) -> None:
    """Re-suggest open tasks if releases were marked live since this store was last used."""
    from datetime import date

    from . import releases
    from .catalogue import load_catalogue
    from .store import open_store

    with open_store(path, create=False) as store:
        releases.resuggest(store, load_catalogue(), releases.live_releases(), date.today())


def cmd_launch(args: argparse.Namespace) -> int:
    logs.setup()
    if args.server:
        return _launch_with_server(args)
    path = args.store or paths.default_training_store()
    if args.store is None and not path.exists():
        from . import training  # only to build a missing store: not on the start path

        print(f"Bygger træningsdatabase {path} ...", file=sys.stderr)
        training.build(path, tasks=DEFAULT_TRAINING_TASKS, seed=DEFAULT_SEED)
    _bring_suggestions_up_to_date(path)
    from screens.app import run_app  # the UI, imported only now

    return run_app(store_path=path)


def _token_readable_by_others(token_file: Path) -> bool:
    """Warn (stderr and log; the status line says it too) when group or others may read the
    desk's token file."""
    try:
        mode = token_file.stat().st_mode
    except OSError:
        return False
    if not mode & 0o077:
        return False
    log.warning("the token file %s is readable by group or others (mode %o)", token_file, mode & 0o777)
    print(i18n.t("sync.token_readable_cli", path=str(token_file), mode=f"{mode & 0o777:o}"), file=sys.stderr)
    return True


def _launch_with_server(args: argparse.Namespace) -> int:
    """A desk synced with a server: the desk store (never the training store) plus a token."""
    from .store import open_store

    if not args.token_file:
        print("--server needs --token-file", file=sys.stderr)
        return 2
    try:
        token = args.token_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        print(f"cannot read the token file {args.token_file}: {exc.strerror}", file=sys.stderr)
        return 2
    if not token:
        print(f"the token file {args.token_file} is empty", file=sys.stderr)
        return 2
    readable = _token_readable_by_others(args.token_file)
    path = args.store or paths.default_desk_store()
    with open_store(path, training=False, exclusive=True) as store:  # refused here if in use
        from .store import sync_state

        with store.transaction():
            sync_state.put(store, sync_state.TOKEN_READABLE, "1" if readable else "0")
    from screens.app import run_app  # the UI, imported only now

    return run_app(store_path=path, server=args.server, token=token)


if __name__ == "__main__":
    raise SystemExit(main())
