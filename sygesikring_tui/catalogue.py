"""The workaround catalogue and the other shipped tables, loaded from ``data/``.

Data, not code: which workarounds exist, their guide sections, Jira ids and planned
releases, which event suggests which workaround, the CPR event table, municipalities,
names for training data and the fee table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from . import i18n
from .paths import data_file

if TYPE_CHECKING:
    from .domain.model import PersonState, Provider
    from .domain.workarounds import Suggestion, SuggestionRule

# The domain model and its rules are imported where a suggestion or a fee is asked for, not
# here: the inbox's first frame needs the catalogue's names only (start-up time).


def _text(d: dict[str, str] | None, lang: str | None) -> str:
    if not d:
        return ""
    lang = lang or i18n.language()
    return d.get(lang) or d.get(i18n.DEFAULT) or ""


# The catalogue's records are named tuples, not dataclasses: read-only data, and a frozen
# dataclass costs ~1.8 ms to define against ~0.3 ms — paid before the inbox's first frame.
class Workaround(NamedTuple):
    id: str
    key: str
    titles: dict[str, str]
    jira: tuple[str, ...]
    release: str | None
    summaries: dict[str, str]
    step_texts: dict[str, list[str]]
    wizard: str | None
    also_sections: tuple[str, ...] = ()
    shorts: dict[str, str] | None = None

    def title(self, lang: str | None = None) -> str:
        return _text(self.titles, lang)

    def short(self, lang: str | None = None) -> str:
        """A word or two (at most 10 characters) for a narrow column: "Genfinding"."""
        return _text(self.shorts, lang) or self.title(lang)

    def summary(self, lang: str | None = None) -> str:
        return _text(self.summaries, lang)

    def steps(self, lang: str | None = None) -> list[str]:
        lang = lang or i18n.language()
        return list(self.step_texts.get(lang) or self.step_texts.get(i18n.DEFAULT) or [])

    @property
    def label(self) -> str:
        return f"{self.id} {self.title()}"


class AttentionPoint(NamedTuple):
    id: str
    titles: dict[str, str]
    texts: dict[str, str]
    jira: tuple[str, ...]
    release: str | None
    shorts: dict[str, str] | None = None

    def title(self, lang: str | None = None) -> str:
        return _text(self.titles, lang)

    def short(self, lang: str | None = None) -> str:
        """A word or two (at most 10 characters) for a narrow column."""
        return _text(self.shorts, lang) or self.title(lang)

    def text(self, lang: str | None = None) -> str:
        return _text(self.texts, lang)


class EventType(NamedTuple):
    code: str
    names: dict[str, str]
    creates_task: bool
    due_days: int
    source: str

    def name(self, lang: str | None = None) -> str:
        return _text(self.names, lang)


class Municipality(NamedTuple):
    code: int
    name: str
    region: str
    lat: float
    lon: float
    postcode: str
    city: str


@dataclass(frozen=True)
class Catalogue:
    workarounds: dict[str, Workaround]
    attention_points: dict[str, AttentionPoint]
    suggestions: list[dict[str, Any]]  # data/workarounds.json "suggestions", as written there
    events: dict[str, EventType]
    municipalities: list[Municipality]
    names: dict[str, Any]
    fees: dict[int, int]
    greenland_towns: list[dict[str, Any]] = field(default_factory=list)
    _retired: dict[frozenset[str], frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def suggestion_rules(self) -> list[SuggestionRule]:
        """Which event and state suggest which workaround (built on first use)."""
        from .domain.workarounds import SuggestionRule

        return [SuggestionRule(s["event_code"], s.get("when", {}), s.get("workaround"), s.get("wizard"),
                               s.get("attention")) for s in self.suggestions]

    def by_key(self, key: str) -> Workaround | None:
        return next((w for w in self.workarounds.values() if w.key == key), None)

    def for_wizard(self, wizard: str) -> list[Workaround]:
        return [w for w in self.workarounds.values() if w.wizard == wizard]

    def event_name(self, code: str, lang: str | None = None) -> str:
        ev = self.events.get(code)
        return ev.name(lang) if ev else code

    def municipality(self, code: int) -> Municipality | None:
        return next((m for m in self.municipalities if m.code == code), None)

    def card_fee(self, year: int) -> int:
        from .domain import rules

        return rules.card_fee(year, self.fees)

    def retired(self, live_releases: frozenset[str] | set[str] = frozenset()) -> frozenset[str]:
        """Workaround ids whose planned release is live in production (cached per live set)."""
        key = frozenset(live_releases)
        hit = self._retired.get(key)
        if hit is None:
            hit = self._retired[key] = frozenset(
                w.id for w in self.workarounds.values() if w.release and w.release in key)
        return hit

    def suggest(self, event_code: str, state: PersonState, today: date,
                provider: Callable[[str], Provider | None] = lambda _n: None,
                live_releases: frozenset[str] | set[str] = frozenset()) -> Suggestion:
        from .domain.workarounds import suggest

        return suggest(self.suggestion_rules, event_code, state, today, provider, self.retired(live_releases))

    def table_lines(self, lang: str | None = None, wizard_exists: Callable[[str | None], bool] | None = None,
                    live_releases: frozenset[str] | set[str] = frozenset()) -> list[str]:
        """The catalogue as text lines for ``sygesikring-tui workarounds``."""
        if wizard_exists is None:
            wizard_exists = _wizard_exists
        retired = self.retired(live_releases)
        rows = [("Afsnit", "Titel", "Jira", "Release", "Wizard")] if (lang or i18n.language()) == "da" else \
            [("Section", "Title", "Jira", "Release", "Wizard")]
        yes, no, ret = ("ja", "nej", "udfaset") if (lang or i18n.language()) == "da" else ("yes", "no", "retired")
        for w in sorted(self.workarounds.values(), key=lambda w: [int(x) for x in w.id.split(".")]):
            state = ret if w.id in retired else (yes if wizard_exists(w.wizard) else no)
            rows.append((w.id, w.title(lang), ", ".join(w.jira) or "-", w.release or "-", state))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        return ["  ".join(c[:widths[i]].ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]


def _wizard_exists(key: str | None) -> bool:
    if not key:
        return False
    try:
        from .domain.wizards import WIZARDS
    except ImportError:
        return False
    return key in WIZARDS


def _load(name: str) -> Any:
    return json.loads(data_file(name).read_text(encoding="utf-8"))


@cache
def load_catalogue() -> Catalogue:
    wa = _load("workarounds.json")
    ev = _load("cpr_events.json")
    mu = _load("municipalities.json")
    names = _load("names.json")
    fees = _load("fees.json")
    workarounds = {
        w["id"]: Workaround(
            w["id"], w["key"], w["title"], tuple(w.get("jira", ())), w.get("release"), w.get("summary", {}),
            w.get("steps", {}), w.get("wizard"), tuple(w.get("also_sections", ())), w.get("short", {}),
        )
        for w in wa["workarounds"]
    }
    attention = {
        a["id"]: AttentionPoint(a["id"], a["title"], a["text"], tuple(a.get("jira", ())), a.get("release"),
                                 a.get("short", {}))
        for a in wa.get("attention_points", [])
    }
    events = {
        e["code"]: EventType(e["code"], e["name"], bool(e.get("creates_task")), int(e.get("due_days", 5)),
                             e.get("source", "CPR"))
        for e in ev["events"]
    }
    municipalities = [
        Municipality(int(m["code"]), m["name"], m.get("region", ""), float(m["lat"]), float(m["lon"]),
                     str(m.get("postcode", "")), m.get("city", m["name"]))
        for m in mu["municipalities"]
    ]
    return Catalogue(workarounds, attention, list(wa.get("suggestions", [])), events, municipalities, names,
                     {int(y): int(v) for y, v in fees["card_fee_kr"].items()}, mu.get("greenland_towns", []))
