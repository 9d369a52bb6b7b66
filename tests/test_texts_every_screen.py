"""The text check: every screen and every wizard step, in Danish and in English, read as the
caseworker sees it at 80×24, must be in the screen's language and in words.

It fails on
- a translation key shown instead of its text, or a ``{param}`` left unfilled;
- a known English word on a Danish screen, or a Danish word on an English screen (words of
  the person's own record — names, notes, reasons, written in Danish by design — excepted);
- a raw operation or field name (``group_switch``, ``task_close`` …, any snake_case word);
- a Python repr (None, True, False, [], {});
- an ISO date (dates are DD-MM-YYYY) or a placeholder dash where a value belongs;
- a fee said to be free twice in one phrase ("gratis – flytning – gratis");
- a line cut mid-word at the 80th column;
- in training mode, a text that says something will be sent.

Wizard steps are reached with tests/wizard_kit.py's walker (defaults, then every choice's
other options, so branches are visited too); the draft it builds is stored as the case's
draft and the wizard screen resumes at that step, as after a restart. Each screen is checked
in Danish, then ctrl+l switches the language on the screen as it stands and it is checked
again in English, so the check also proves that ctrl+l reaches every visible text.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.wizard_kit import ctx_for, walk

from screens.app import make_app
from screens.wizards.engine import WizardScreen
from sygesikring_tui import i18n
from sygesikring_tui.catalogue import load_catalogue
from sygesikring_tui.domain.operations import KINDS
from sygesikring_tui.domain.wizards import WIZARDS, Wizard
from sygesikring_tui.paths import data_dir
from sygesikring_tui.store import open_store
from tests.conftest import TODAY
from tests.test_ui_pilot import screen_text

pytestmark = pytest.mark.usefixtures("danish", "index_at_once")


SIZE = (80, 24)
DUMP = os.environ.get("TEXT_CHECK_DUMP")  # a folder: every screen read is written there too

# Words that are English and never Danish (a Danish screen must not show them) …
ENGLISH = {
    "the", "and", "search", "commands", "command", "matches", "found", "next", "back", "close", "cancel",
    "quit", "help", "task", "tasks", "doctor", "doctors", "group", "groups", "step", "review", "commit",
    "saved", "press", "please", "none", "yes", "with", "without", "open", "closed", "date", "card", "cards",
    "insurance", "notes", "history", "choose", "select", "not", "this", "that", "which", "will", "your",
    "you", "error", "unknown", "theme", "keys", "screenshot", "queued", "sending", "waiting", "free",
    "paid", "drop", "settings", "application", "maximize", "minimize", "palette", "fee", "reason",
}
# … and words that are Danish and never English.
DANISH = {
    "og", "ikke", "ingen", "opgave", "opgaver", "læge", "lægen", "lægevalg", "gruppe", "sikrede",
    "sikringsgruppe", "kort", "sundhedskort", "frist", "åben", "lukket", "vælg", "tryk", "gem", "gemt",
    "tilbage", "hjælp", "afslut", "næste", "fejl", "dato", "træning", "gratis", "betalt", "kladde", "trin",
    "af", "til", "fra", "med", "på", "er", "der", "det", "en", "et", "den", "som", "skal", "kan", "hvis",
    "eller", "ved", "ja", "nej", "personen", "borgeren", "notat", "noter", "søg", "kommandoer", "sprog",
    "venter", "afsendelse", "sendes", "aldrig", "gebyr", "årsag", "ændring", "oprettet", "handling",
}
# Training never sends anything: a training screen must not say it will.
SENDING = re.compile(r"kø til afsendelse|venter på at blive sendt|queued for sending|waiting to be sent", re.I)
REPR = re.compile(r"\b(None|True|False)\b|\[\]|\{\}|\['|\{'|<[a-z_.]+ object")
PARAM = re.compile(r"\{[a-z_]+\}")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
PLACEHOLDER_DASH = re.compile(r"\b(gruppe|group|til|to|fra|from|pr\.|af|of) +[-–?](?=[ .,;)]|$)", re.I | re.M)
# "gratis – flytning – gratis", "gratis (… gratis": a fee said free twice in one phrase.
FREE_TWICE = re.compile(r"\b(gratis|free) ?[–(:][^.()·:\d]{0,45}?\b\1\b", re.I)
DOTTED = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)+")
WORD = re.compile(r"[^\W\d_]+")


def all_keys() -> set[str]:
    return set(i18n.table("da")) | set(i18n.table("en"))


def record_words(*objs: Any) -> set[str]:
    """Every word in the strings of the given objects (person states, planned payloads):
    what the record itself says is data, not UI text, and is Danish whatever the UI language."""
    out: set[str] = set()

    def visit(o: Any) -> None:
        if isinstance(o, str):
            out.update(w.lower() for w in WORD.findall(o))
            out.update(SNAKE.findall(o))  # e.g. a file name in a path
        elif dataclasses.is_dataclass(o) and not isinstance(o, type):
            for f in dataclasses.fields(o):
                visit(getattr(o, f.name))
        elif isinstance(o, dict):
            for v in o.values():
                visit(v)
        elif isinstance(o, (list, tuple, set, frozenset)):
            for v in o:
                visit(v)

    for o in objs:
        visit(o)
    return out


def problems(text: str, lang: str, data: set[str] = frozenset(), keys: set[str] | None = None) -> list[str]:
    """What is wrong with one screen's text in ``lang`` (empty: nothing)."""
    keys = keys if keys is not None else all_keys()
    found: list[str] = []
    for m in DOTTED.finditer(text):
        if m.group(0) in keys:
            found.append(f"untranslated key {m.group(0)!r}")
    found += [f"unfilled parameter {m.group(0)!r}" for m in PARAM.finditer(text)]
    found += [f"python repr {m.group(0)!r}" for m in REPR.finditer(text)]
    found += [f"raw name {m.group(0)!r}" for m in SNAKE.finditer(text) if m.group(0) not in data]
    found += [f"raw operation {k!r}" for k in KINDS if k in text]
    found += [f"ISO date {m.group(0)!r}" for m in ISO_DATE.finditer(text)]
    found += [f"placeholder dash {m.group(0)!r}" for m in PLACEHOLDER_DASH.finditer(text)]
    found += [f"said twice {m.group(0)!r}" for m in FREE_TWICE.finditer(" ".join(text.split()))]
    foreign = ENGLISH if lang == "da" else DANISH
    for w in sorted({w.lower() for w in WORD.findall(text)} & foreign - data):
        found.append(f"{'English' if lang == 'da' else 'Danish'} word {w!r}")
    for line in text.splitlines():
        if len(line) >= SIZE[0] and line[SIZE[0] - 1].isalnum() and line[SIZE[0] - 2].isalnum():
            found.append(f"line cut at column {SIZE[0]}: {line[-30:]!r}")
    return found


# -- the check itself, on fixed texts (it must be able to fail) ------------------------------

@pytest.mark.parametrize("lang,text,expected", [
    ("da", "🔎 Search for commands…", "English word 'search'"),
    ("da", "No matches found", "English word 'found'"),
    ("en", "1 opgaver", "Danish word 'opgaver'"),
    ("da", "group_switch 5@2026-11-01", "raw name 'group_switch'"),
    ("da", "group_switch 5@2026-11-01", "ISO date '2026-11-01'"),
    ("da", "Læge: None", "python repr 'None'"),
    ("da", "Relationer: []", "python repr '[]'"),
    ("da", "wizard.engine.next", "untranslated key 'wizard.engine.next'"),
    ("da", "Sikrede er i gruppe - pr. 01-11-2026", "placeholder dash 'gruppe -'"),
    ("da", "Trin {n} af 3", "unfilled parameter '{n}'"),
    ("da", "Gebyr: gratis – første lægevalg efter indrejse – gratis.", "said twice"),
    ("da", "almindeligt valg – gratis (flytning –\n gratis)", "said twice"),
    ("da", (" Sikrede · 3 åbne opgaver" * 4)[:80], "line cut at column 80"),
])
def test_the_check_finds_each_kind_of_fault(lang, text, expected):
    assert any(p.startswith(expected) for p in problems(text, lang)), problems(text, lang)


def test_the_check_passes_good_danish_and_good_english_and_record_words():
    assert problems("Gruppeskift til 5 pr. 01-11-2026 · 1 opgave", "da") == []
    assert problems("Group switch to 5 as of 01-11-2026 · 1 task", "en") == []
    assert problems("Note: flytning – gratis", "en", data={"flytning", "gratis"}) == []


# -- the catalogue: the same keys, placeholders and plural forms in both languages -----------

def _pairs_no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dup = {k for k in keys if keys.count(k) > 1}
    assert not dup, f"keys defined twice: {sorted(dup)}"
    return dict(pairs)


def test_every_catalogue_file_defines_each_key_once_and_no_key_is_in_two_files():
    for lang in i18n.LANGUAGES:
        seen: dict[str, str] = {}
        for f in sorted((data_dir() / "i18n" / lang).glob("*.json")):
            for key in json.loads(f.read_text(encoding="utf-8"), object_pairs_hook=_pairs_no_duplicates):
                assert key not in seen, f"{lang}: {key} in {seen.get(key)} and {f.name}"
                seen[key] = f.name


def _forms(entry: Any) -> list[str]:
    return list(entry.values()) if isinstance(entry, dict) else [entry]


def test_danish_and_english_have_the_same_keys_placeholders_and_plural_forms():
    da, en = i18n.table("da"), i18n.table("en")
    assert sorted(set(da) ^ set(en)) == []
    for key in da:
        assert isinstance(da[key], dict) == isinstance(en[key], dict), key
        if isinstance(da[key], dict):
            assert set(da[key]) == set(en[key]) == {"one", "other"}, key
        params_da = {p for form in _forms(da[key]) for p in PARAM.findall(form)}
        params_en = {p for form in _forms(en[key]) for p in PARAM.findall(form)}
        assert params_da == params_en, key


def test_plural_forms_follow_the_count():
    i18n.set_language("da")
    try:
        assert [i18n.t("inbox.count", n=n) for n in (0, 1, 2)] == ["0 opgaver", "1 opgave", "2 opgaver"]
        i18n.set_language("en")
        assert [i18n.t("inbox.count", n=n) for n in (0, 1, 2)] == ["0 tasks", "1 task", "2 tasks"]
    finally:
        i18n.set_language("da")


def test_a_date_parameter_is_written_the_danish_way_in_both_languages():
    for lang in i18n.LANGUAGES:
        i18n.set_language(lang)
        try:
            assert "01-11-2026" in i18n.t("rule.future_switch_blocks", group=5, date="2026-11-01")
            assert "01-11-2026" in i18n.t("rule.future_switch_blocks", group=5, date=date(2026, 11, 1))
        finally:
            i18n.set_language("da")


# -- walking every screen ---------------------------------------------------------------------

class Reader:
    """Reads the screen in both languages and collects what is wrong, with where it was."""

    def __init__(self, app, pilot) -> None:
        self.app, self.pilot = app, pilot
        self.keys = all_keys()
        self.found: list[str] = []
        self.screens = 0

    async def read(self, where: str, data: set[str] = frozenset()) -> None:
        """Check the screen in Danish, press ctrl+l, check it in English, press ctrl+l."""
        assert i18n.language() == "da"
        for lang in ("da", "en"):
            await self.pilot.pause()
            text = screen_text(self.app)
            if DUMP:
                name = re.sub(r"[^a-z0-9]+", "-", f"{self.screens:03d} {where} {lang}")
                (Path(DUMP) / f"{name}.txt").write_text(f"{where} [{lang}]\n{text}", encoding="utf-8")
            self.found += [f"{where} [{lang}]: {p}" for p in problems(text, lang, data, self.keys)]
            if getattr(self.app, "is_training", False):
                self.found += [f"{where} [{lang}]: training says it sends: {m.group(0)!r}"
                               for m in SENDING.finditer(" ".join(text.split()))]
            self.screens += 1
            await self.pilot.press("ctrl+l")
            await self.pilot.pause()
        assert i18n.language() == "da"


def wizard_drafts(wizard: Wizard, ctx) -> list[tuple[int, dict[str, str]]]:
    """Every step the walker reaches with the suggested answers and with each other option of
    every choice it meets (so branches are walked too); the review last, with the final draft."""
    seen: dict[int, dict[str, str]] = {}
    final: dict[str, str] | None = None
    tried: set[tuple[str, str]] = set()
    queue: list[dict[str, str]] = [{}]
    while queue:
        answers = queue.pop(0)
        visited: list[tuple[int, dict[str, str]]] = []
        try:
            draft = walk(wizard, ctx, answers, visited)
            final = final or draft
        except AssertionError:
            # a step that needs an answer: confirm what asks for confirmation and go on
            step = wizard.steps[visited[-1][0]]
            more = {f.id: "yes" for f in step.fields if f.kind == "confirm" and f.id not in answers}
            if more:
                queue.append({**answers, **more})
        for i, draft_at in visited:
            seen.setdefault(i, draft_at)
            for f in wizard.steps[i].fields:
                if f.kind != "choice" or f.options is None:
                    continue
                for opt in f.options(draft_at, ctx):
                    if (f.id, opt.value) not in tried:
                        tried.add((f.id, opt.value))
                        queue.append({**answers, f.id: opt.value})
    out = sorted(seen.items())
    if final is not None:
        out.append((len(wizard.steps), final))
    return out


def wizard_cases(path: Path) -> list[tuple[Wizard, str, str | None, str]]:
    """(wizard, cpr, task id, workaround id) for every wizard: the first open task the
    catalogue suggests it for; a wizard no task suggests runs for a person with a relation."""
    cat = load_catalogue()
    out: dict[str, tuple[Wizard, str, str | None, str]] = {}
    with open_store(path, create=False) as s:
        for tid, cpr in s.conn.execute("SELECT id, cpr FROM tasks WHERE status = 'open' ORDER BY rid"):
            st = s.load_person(cpr)
            sug = cat.suggest(st.task(tid).event_code, st, TODAY, s.provider)
            if sug.wizard in WIZARDS and sug.wizard not in out:
                out[sug.wizard] = (WIZARDS[sug.wizard], cpr, tid, sug.workaround_id or WIZARDS[sug.wizard].workaround_ids[0])
        any_cpr = next(cpr for (cpr,) in s.conn.execute("SELECT cpr FROM tasks ORDER BY rid")
                       if s.load_person(cpr).relations)
    for key, w in WIZARDS.items():
        out.setdefault(key, (w, any_cpr, None, w.workaround_ids[0]))
    return list(out.values())


async def test_every_screen_and_wizard_step_reads_in_danish_and_in_english(training_store: Path) -> None:
    cases = wizard_cases(training_store)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        r = Reader(app, pilot)
        await pilot.pause()
        await r.read("inbox")
        await pilot.press("f")
        await r.read("filter dialog")
        await pilot.press("escape")
        await pilot.press("f1")
        await r.read("inbox help")
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await r.read("command palette")
        await pilot.press(*"zzqx")
        await pilot.pause(0.8)  # the palette says "no match" after half a second
        await r.read("command palette, no match")
        await pilot.press("escape")
        await pilot.press("c")
        await r.read("conflicts (none)")
        await pilot.press("escape")
        await pilot.press("R")
        await pilot.app.workers.wait_for_complete()  # the report is computed in a worker thread
        await pilot.pause()
        assert type(app.screen).__name__ == "ReportScreen" and app.screen.report is not None
        await r.read("fault-cost report")
        for key in ("m", "m", "p"):  # closed, minutes in wizards, another period
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
            await r.read(f"fault-cost report after {key}")
        await pilot.press("f1")
        await r.read("fault-cost report help")
        await pilot.press("escape", "escape")
        await pilot.press("slash", *"qqqq")
        await r.read("inbox, nothing found")
        await pilot.press("escape", "x")

        people: dict[str, set[str]] = {}
        for wizard, cpr, task_id, wid in cases:
            ctx = ctx_for(app.store, wizard, cpr, task_id, fee=app.catalogue.card_fee(TODAY.year))
            data = record_words(*ctx.states.values())
            case = app.store.create_case(wid, cpr, task_id, {"_wizard": wizard.key})
            drafts = wizard_drafts(wizard, ctx)
            if drafts[-1][0] == len(wizard.steps):  # what the case will write is record text too
                data |= record_words([p.payload for p in wizard.plan(drafts[-1][1], ctx.states, ctx)])
            for step_no, draft in drafts:
                words = data | record_words([v for v in draft.values() if " " in v])  # typed texts, not option ids
                app.store.save_draft(case.id, step_no, {**draft, "_wizard": wizard.key})
                app.launch(cpr=cpr, task_id=task_id, wizard_key=wizard.key, workaround_id=wid)
                await pilot.pause()
                if not isinstance(app.screen, WizardScreen):  # e.g. a retired workaround's warning
                    await r.read(f"{wizard.key} before the first step", words)
                    await pilot.press("escape")
                    break
                where = f"{wizard.key} step {step_no} " + (
                    "review" if step_no == len(wizard.steps) else wizard.steps[step_no].id)
                await r.read(where, words)
                if step_no == 0:
                    await pilot.press("f1")
                    await r.read(f"{wizard.key} help", words)
                    await pilot.press("escape")
                if step_no == len(wizard.steps) and cpr not in people:
                    await pilot.press("ctrl+s")  # commit: the history gets entries to read
                    await pilot.pause()
                    if not isinstance(app.screen, WizardScreen):
                        await r.read(f"{wizard.key} committed (inbox and message)", words)
                        people[cpr] = words
                        continue
                await pilot.press("escape")
            await pilot.pause()

        from screens.person import PersonScreen

        for cpr, words in list(people.items())[:6]:
            state = app.store.load_person(cpr)
            app.push_screen(PersonScreen(cpr))
            await pilot.pause()
            for n, tab in enumerate(("facts", "insurance", "cards", "notes", "tasks", "history", "wizards"), 1):
                await pilot.press(str(n))
                await r.read(f"person {tab}", words | record_words(state))
            await pilot.press("f1")
            await r.read("person help", words)
            await pilot.press("escape", "escape")
    assert r.screens > 100
    assert app.error_count == 0
    assert r.found == [], "\n".join(dict.fromkeys(r.found))


async def test_the_store_error_screen_reads_in_both_languages(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-store.db"
    bad.write_text("this is not a database")
    app = make_app(bad, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        r = Reader(app, pilot)
        await r.read("store error", record_words(str(bad)))
    assert r.found == [], "\n".join(r.found)


async def test_the_daily_work_screens_read_in_danish_and_in_english(training_store: Path) -> None:
    """Close task (and its error), follow-ups view and tick (and its errors), the note
    dialog, draft marker and discard, a stale draft, the release confirmation, F1 on a task
    without a wizard: each in both languages."""
    from screens.help import HelpScreen
    from screens.person import PersonScreen
    from sygesikring_tui.domain.operations import PlannedOp
    from sygesikring_tui.store.quick import commit_quick
    from tests.test_drafts_on_the_desk import commit_cohabitant_doctor, draft_at_review, host_move_task

    with open_store(training_store) as s:
        tid, cpr = host_move_task(s)
        draft_at_review(s, tid, cpr)
        no_wizard = s.conn.execute("SELECT id, cpr FROM tasks WHERE status = 'open' AND workaround_id IS NULL "
                                   "ORDER BY due, rid LIMIT 1").fetchone()
        commit_quick(s, "test", cpr, None, [PlannedOp(cpr, "followup_add", {"text": "Kontakt ydernummeret",
                                                                           "due": "2026-11-20"})], TODAY)
        data = record_words(s.load_person(cpr), s.load_person(no_wizard[1]))
    app = make_app(training_store, today=TODAY)
    app.caseworker = "Hanne"
    data |= {"hanne"}
    async with app.run_test(size=SIZE) as pilot:
        r = Reader(app, pilot)
        await pilot.pause()
        await pilot.press("slash", *cpr, "enter")
        await pilot.pause()
        await r.read("inbox with a draft marker", data)
        await pilot.press("l")
        await r.read("close task dialog", data)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen), "close task help"
        await r.read("close task help", data)
        await pilot.press("escape")
        await pilot.press("down", "down", "down", "ctrl+s")
        await r.read("close task dialog, note required", data)
        await pilot.press("escape", "d")
        await r.read("discard draft confirmation", data)
        await pilot.press("escape", "o")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await r.read("follow-ups view", data)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen), "follow-ups help"
        await r.read("follow-ups help", data)
        await pilot.press("escape", "a")
        await r.read("follow-up tick", data)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen), "follow-up tick help"
        await r.read("follow-up tick help", data)
        await pilot.press("escape")
        app.screen.query_one("#tick-date").value = "x"
        app.screen.caseworker = ""  # (nobody signed in: its error beside the "ticked off by" line)
        await pilot.press("ctrl+s")
        await r.read("follow-up tick, errors", data)
        await pilot.press("escape", "escape", "enter", "n")
        await r.read("note dialog", data)
        await pilot.press("enter")
        await r.read("note dialog, empty", data)
        await pilot.press("escape", "4")
        await r.read("person notes with a follow-up", data)
        await pilot.press("7")
        await r.read("person wizards with a draft", data)
        await pilot.press("f1")
        await r.read("person help", data)
        await pilot.press("escape", "escape")
        commit_cohabitant_doctor(app.store, cpr)
        await pilot.press("w")
        await r.read("stale draft", data | record_words(app.store.load_person(cpr)))
        await pilot.press("escape")
        app.push_screen(PersonScreen(no_wizard[1], task_id=no_wizard[0]))
        await pilot.pause()
        await pilot.press("f1")
        await r.read("F1 on a task without a wizard", data)
        await pilot.press("escape", "escape")
        app.confirm_release_live("1.1")
        await r.read("release confirmation", data)
        await pilot.press("escape")
    assert app.error_count == 0
    assert r.found == [], "\n".join(dict.fromkeys(r.found))
