"""The caseworker's keymap on the screens: every binding has an id; the keymap file
(sygesikring_tui.keymap) gives ids other keys through Textual's public App.set_keymap, and
the key bars show the keys as remapped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from textual.binding import Binding
from textual.dom import DOMNode

from sygesikring_tui.i18n import t
from sygesikring_tui.keymap import Problem, keymap_path, load_keymap

log = logging.getLogger(__name__)


def _screen_modules() -> Iterator[Any]:
    import importlib
    import pkgutil

    import screens

    for info in pkgutil.walk_packages(screens.__path__, "screens."):
        yield importlib.import_module(info.name)


def all_bindings() -> Iterator[tuple[type, Binding]]:
    """(class, binding) for every binding a class of screens/ declares itself."""
    import inspect

    seen: set[type] = set()
    for module in _screen_modules():
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if cls in seen or not issubclass(cls, DOMNode) or not cls.__module__.startswith("screens."):
                continue
            seen.add(cls)
            for b in cls.__dict__.get("BINDINGS", []):
                if isinstance(b, Binding):
                    yield cls, b


def binding_ids() -> set[str]:
    return {b.id for _cls, b in all_bindings() if b.id}


def apply_user_keymap(app: Any) -> dict[str, str]:
    """Read the keymap file and give the app its keys; a problem is said in a notification (and
    logged), never raised: the default keys stay for whatever the file does not give."""
    if not keymap_path().is_file():  # the usual case: nothing to read, no screen modules to walk
        return {}
    keymap, problems = load_keymap(binding_ids())
    if keymap:
        try:
            app.set_keymap(keymap)
        except Exception:  # noqa: BLE001 - a keymap Textual refuses: the default keys, and say so
            log.exception("keymap not applied")
            keymap, problems = {}, [*problems, Problem("keymap.problem.unusable")]
        else:
            app.call_after_refresh(_refresh_key_bars, app)
    for p in problems:
        log.warning("keymap file: %s %s", p.key, p.params)
        app.notify(t("keymap.problem", problem=t(p.key, **p.params)), severity="warning", timeout=10)
    return keymap


def _refresh_key_bars(app: Any) -> None:
    from .widgets import KeyBar

    for screen in app.screen_stack:
        for bar in screen.query(KeyBar):
            bar.refresh_texts()


def shown_key(app: Any, binding_id: str | None, default: str) -> str:
    """The key a key bar shows for a binding: the keymap's first key for it, else ``default``."""
    keymap = getattr(app, "keymap", None) or {}
    keys = keymap.get(binding_id or "")
    if not keys:
        return default
    shown = app.get_key_display(Binding(keys.split(",")[0], ""))
    # written as the key bars write keys: "F2", "Esc", "↵"
    return {"esc": "Esc", "enter": "↵", "tab": "Tab"}.get(shown, shown.upper() if re.fullmatch(r"f\d+", shown)
                                                        else shown)
