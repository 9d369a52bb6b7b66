"""The caseworker's own keys: a TOML file in the user config dir that gives a binding (by its
id, e.g. ``wizard.next``) other keys, as Posting and other Textual apps do.

    # ~/.config/sygesikring-tui/keymap.toml
    "wizard.next" = "f2"
    "inbox.search" = "ctrl+f,slash"

Reading never raises: a file that cannot be used gives problems (translation key and
parameters) and the entries that can be used; the app shows the problems and keeps its
default keys for the rest. No Textual here: the app applies the result (App.set_keymap).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .paths import user_config_dir

FILE_NAME = "keymap.toml"
MAX_BYTES = 64 * 1024
# One key as Textual names it: "f2", "ctrl+f", "shift+tab", "pagedown", "G", "question_mark".
_KEY = re.compile(r"^(?:(?:ctrl|shift|alt|meta|super|hyper)\+)*[A-Za-z0-9_]+$")


def keymap_path() -> Path:
    return user_config_dir() / FILE_NAME


@dataclass(frozen=True)
class Problem:
    """Something wrong in the keymap file: a translation key and its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


def valid_keys(value: str) -> bool:
    """A comma-separated list of one or more key names."""
    parts = [p.strip() for p in value.split(",")]
    return bool(parts) and all(_KEY.match(p) for p in parts)


def parse_keymap(text: str, known_ids: Collection[str]) -> tuple[dict[str, str], list[Problem]]:
    """(binding id -> keys, problems) from the file's text; only entries that can be used."""
    import tomllib  # (here: most desks have no keymap file, and start without the parser)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        return {}, [Problem("keymap.problem.syntax", {"line": line.group(1) if line else "?"})]
    keymap: dict[str, str] = {}
    problems: list[Problem] = []
    for binding_id, value in data.items():
        if binding_id not in known_ids:
            problems.append(Problem("keymap.problem.unknown_id", {"id": binding_id}))
        elif not isinstance(value, str) or not valid_keys(value):
            problems.append(Problem("keymap.problem.bad_keys", {"id": binding_id, "value": str(value)}))
        else:
            keymap[binding_id] = ",".join(p.strip() for p in value.split(","))
    return keymap, problems


def load_keymap(known_ids: Collection[str], path: Path | None = None) -> tuple[dict[str, str], list[Problem]]:
    """The keymap file's usable entries and its problems; no file is no keymap, no problem."""
    path = path or keymap_path()
    try:
        if not path.is_file():
            return {}, []
        if path.stat().st_size > MAX_BYTES:
            return {}, [Problem("keymap.problem.too_large", {"limit": MAX_BYTES})]
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return {}, [Problem("keymap.problem.not_utf8")]
    except OSError as exc:
        return {}, [Problem("keymap.problem.unreadable", {"detail": exc.strerror or ""})]
    return parse_keymap(text, known_ids)
