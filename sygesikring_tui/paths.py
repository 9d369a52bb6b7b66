"""Where things live: platform dirs for stores and config; the shipped data folder."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "sygesikring-tui"


def data_dir() -> Path:
    """The ``data/`` folder: inside the installed wheel, or the repository's own."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent / "data"):
        if (candidate / "workarounds.json").is_file():
            return candidate
    raise FileNotFoundError("sygesikring-tui's data folder is missing (workarounds.json not found)")


def user_data_dir() -> Path:
    override = os.environ.get("SYGESIKRING_HOME")
    base = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    return base


def user_config_dir() -> Path:
    """The caseworker's settings (the keymap file): the platform's config dir, or
    ``$SYGESIKRING_HOME/config`` when that is set. Not created: only read."""
    override = os.environ.get("SYGESIKRING_HOME")
    if override:
        return Path(override) / "config"
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_training_store() -> Path:
    return user_data_dir() / "training.db"


def default_desk_store() -> Path:
    return user_data_dir() / "desk.db"


def data_file(name: str) -> Path:
    p = data_dir() / name
    if not p.is_file():
        raise FileNotFoundError(f"data file {name} is missing from {data_dir()}")
    return p
