"""Evidence the task carries is used: 2.6.5 pre-selects the practice the citizen asked for,
and the 038 suggestion recognises the usual Danish wordings of "state-posted"."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from sygesikring_tui.domain.model import CprEvent, Note, Task
from sygesikring_tui.domain.wizards import WIZARDS, WizardContext
from sygesikring_tui.domain.workarounds import has_state_posted_note, says_state_posted
from tests.factories import CLOSED, CLOSED2, PROVIDERS, a_cpr, a_person
from tests.wizard_kit import walk

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize("text", [
    "Borgeren er statsudsendt i Bruxelles.",
    "Indkaldelsen vedrører en stats-udsendt medarbejder",
    "Udsendt af staten til ambassaden i Paris fra 1. december",
    "udstationeret for den danske stat i 2 år",
    "Udsendt af Udenrigsministeriet",
    "udsendt ved den danske ambassade i Berlin",
    "State-posted abroad (note from the citizen)",
])
def test_the_usual_wordings_of_state_posted_are_recognised(text: str) -> None:
    assert says_state_posted(text)


@pytest.mark.parametrize("text", [
    "Borgeren er ikke statsudsendt, men værnepligtig.",
    "Er IKKE udsendt af staten",
    "Indkaldt til værnepligt på Bornholm",
    "Rejser til udlandet på ferie",
    "not state-posted",
])
def test_a_note_that_denies_it_or_says_otherwise_is_not_taken_as_state_posted(text: str) -> None:
    assert not says_state_posted(text)


def test_a_state_posted_note_in_other_words_suggests_2_5_1() -> None:
    from sygesikring_tui.catalogue import load_catalogue

    p = a_person()
    p = replace(p, notes=(Note("n1", "2026-11-01T09:00:00", "sb", "Borgeren er udsendt af staten til Genève."),))
    assert has_state_posted_note(p)
    s = load_catalogue().suggest("038", p, TODAY)
    assert s is not None and s.workaround_id == "2.5.1"


def _luna_case(*, event: bool, note: bool) -> WizardContext:
    number = a_cpr(date(1975, 4, 9), seed=91)
    p = a_person(number, luna_known=False)
    ev = CprEvent("e-l01", "L01", date(2026, 11, 20), date(2026, 11, 21),
                  {"provider_number": CLOSED.provider_number, "forced": True} if event else {})
    notes = (Note("n1", "2026-11-21T10:00:00", "sb",
                  f"Ønsket lægevalg: {CLOSED.practice_name} ({CLOSED.provider_number})."),) if note else ()
    task = Task("t-l01", number, "L01", ev.id, date(2026, 11, 21), date(2026, 11, 26))
    p = replace(p, events=(ev,), tasks=(task,), notes=notes)
    return WizardContext(TODAY, number, "t-l01", {number: p}, {x.provider_number: x for x in PROVIDERS}, 225)


@pytest.mark.parametrize("event,note", [(True, False), (False, True)], ids=["task-data", "note"])
def test_forced_choice_pre_selects_the_practice_the_citizen_asked_for(event: bool, note: bool) -> None:
    ctx = _luna_case(event=event, note=note)
    w = WIZARDS["forced_choice_luna"]
    # the nearest closed practice is another one: the evidence, not the distance, decides
    assert w.fill_defaults(w.steps[0], {}, ctx)["provider"] == CLOSED.provider_number != CLOSED2.provider_number
    planned = w.plan(walk(w, ctx, {}), ctx.states, ctx)
    choice = next(p for p in planned if p.kind == "doctor_choice")
    assert choice.payload["provider_number"] == CLOSED.provider_number


def test_forced_choice_without_a_request_falls_back_to_the_nearest_closed_practice() -> None:
    ctx = _luna_case(event=False, note=False)
    w = WIZARDS["forced_choice_luna"]
    assert w.fill_defaults(w.steps[0], {}, ctx)["provider"] == CLOSED2.provider_number
