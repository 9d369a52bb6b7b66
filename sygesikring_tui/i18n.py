"""Translation layer: every UI and message text comes from ``data/i18n/<lang>/*.json``.

Danish is the default; English is an option (``--lang en`` or ``SYGESIKRING_LANG=en``).
Each area keeps its own file (core.json, inbox.json, …) and all files of a language are
merged; a key defined twice in one language is an error caught by the tests.
"""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from typing import Any

from .paths import data_dir

log = logging.getLogger(__name__)

LANGUAGES = ("da", "en")
DEFAULT = "da"

_lang = os.environ.get("SYGESIKRING_LANG", DEFAULT) if os.environ.get("SYGESIKRING_LANG") in LANGUAGES else DEFAULT


@cache
def table(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    folder = data_dir() / "i18n" / lang
    for f in sorted(folder.glob("*.json")):
        merged.update(json.loads(f.read_text(encoding="utf-8")))
    return merged


def set_language(lang: str) -> None:
    global _lang
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    _lang = lang


def language() -> str:
    return _lang


def t(key: str, /, **params: Any) -> str:
    """The text for ``key`` in the current language, with ``{params}`` filled in.

    A key missing in the current language falls back to Danish, then to the key itself
    (and is logged), so a missing translation never crashes a screen.
    """
    text = table(_lang).get(key)
    if text is None:
        text = table(DEFAULT).get(key)
        if text is None:
            log.warning("missing translation %s", key)
            return key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            log.warning("bad parameters for translation %s", key)
            return text
    return text
