"""Translation layer: every UI and message text comes from ``data/i18n/<lang>/*.json``.

Danish is the default; English is an option (``--lang en`` or ``SYGESIKRING_LANG=en``).
Each area keeps its own file (core.json, inbox.json, …) and all files of a language are
merged; a key defined twice in one language is an error caught by the tests.

Plural forms: a text whose count changes its words is an object of CLDR plural categories,
``{"one": "{n} opgave", "other": "{n} opgaver"}``; :func:`t` picks the form by the ``n``
parameter (or ``count``) with the language's plural rule (:func:`plural_category`).

Lists: a parameter that is a list or tuple is written as the language writes a list,
"1, 2 og 3" / "1, 2 and 3" (the joining word is the text ``list.and``).

Dates: a parameter that is a date (a ``date`` or an ISO ``YYYY-MM-DD`` string, as rule
violations carry them over the wire) is written DD-MM-YYYY, so no ISO date reaches a text.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import date
from functools import cache
from typing import Any, Union

from .paths import data_dir

log = logging.getLogger(__name__)

LANGUAGES = ("da", "en")
DEFAULT = "da"

_lang = os.environ.get("SYGESIKRING_LANG", DEFAULT) if os.environ.get("SYGESIKRING_LANG") in LANGUAGES else DEFAULT


Entry = Union[str, dict[str, str]]  # a text, or its plural forms by CLDR category

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@cache
def table(lang: str) -> dict[str, Entry]:
    merged: dict[str, Entry] = {}
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


def plural_category(lang: str, n: Any) -> str:
    """The CLDR plural category of the whole number ``n`` in ``lang``: Danish and English
    both say "one" for exactly 1 and "other" for everything else (0 included)."""
    try:
        return "one" if int(n) == 1 and lang in LANGUAGES else "other"
    except (TypeError, ValueError):
        return "other"


def _param(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        items = [str(_param(v)) for v in value]
        if len(items) < 2:
            return "".join(items)
        word = table(_lang).get("list.and") or table(DEFAULT).get("list.and") or "&"
        return f"{', '.join(items[:-1])} {word} {items[-1]}"
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value).strftime("%d-%m-%Y")
        except ValueError:
            return value
    return value


def has(key: str) -> bool:
    """Whether ``key`` has a text (in the current language or the Danish fallback)."""
    return key in table(_lang) or key in table(DEFAULT)


def t(key: str, /, **params: Any) -> str:
    """The text for ``key`` in the current language, with ``{params}`` filled in.

    A key missing in the current language falls back to Danish, then to the key itself
    (and is logged), so a missing translation never crashes a screen.
    """
    lang = _lang
    text = table(lang).get(key)
    if text is None:
        lang = DEFAULT
        text = table(DEFAULT).get(key)
        if text is None:
            log.warning("missing translation %s", key)
            return key
    if isinstance(text, dict):
        n = params.get("n", params.get("count"))
        text = text.get(plural_category(lang, n)) or text["other"]
    if params:
        try:
            return text.format(**{k: _param(v) for k, v in params.items()})
        except (KeyError, IndexError, ValueError):
            log.warning("bad parameters for translation %s", key)
            return text
    return text
