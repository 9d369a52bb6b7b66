"""Texts written INTO the case record (notes, close reasons, follow-ups, registration reasons).

They are Danish whatever the UI language: they belong to the person's record, which the
server and every other desk read. UI texts live in data/i18n, not here.
"""

from __future__ import annotations

from datetime import date

from ..cpr import format_cpr


def d(value: date | None) -> str:
    """A date the Danish way (DD-MM-YYYY); '-' when missing."""
    return value.strftime("%d-%m-%Y") if value else "-"


def c(value: str) -> str:
    return format_cpr(value)


# renumbering (2.7.1 / 2.7.5)
CLOSE_RELATION = "relation – personnummer ikke ændret (2.7.1)"
CLOSE_RENUMBERED = "omnummerering gennemført (2.7.5)"
REASON_OLD_CEASED = "ophørt ved omnummerering (2.7.5)"
REASON_NEW_GROUP1 = "nyt personnummer efter omnummerering (2.7.5)"
REASON_CHOICE_RENUMBERING = "omnummerering"
FEE_FREE_RENUMBERING = "ændret personnummer – gratis"


def note_old_doctor(new_cpr: str, practice: str | None, provider_number: str | None) -> str:
    if practice:
        return (f"Ophørt ved omnummerering til {c(new_cpr)} (sikringsgruppe 8). "
                f"Læge på dette nummer: {practice} (ydernr. {provider_number}).")
    return f"Ophørt ved omnummerering til {c(new_cpr)} (sikringsgruppe 8). Ingen læge på dette nummer."


def note_link(old_cpr: str, new_cpr: str, changed_on: date | None) -> str:
    return (f"Omnummerering {d(changed_on)}: gammelt CPR-nr. {c(old_cpr)} → nyt CPR-nr. {c(new_cpr)}. "
            f"Lægen fra det gamle nummer er overført til det nye (2.7.5).")


# call-up, state-posted, short stay, discharge (2.4.1 / 2.5.1 / 2.7.6 / 3.1.7)
CLOSE_CONSCRIPT = "indkaldelse – sikringsgruppe 1 → 5 (2.4.1)"
CLOSE_STATE_POSTED = "statsudsendt – intet gruppeskift (2.5.1)"
CLOSE_SHORT_STAY = "supplerende adresse – kort ophold i udlandet (2.7.6)"
CLOSE_DISCHARGE = "hjemsendelse – sikringsgruppe 5 → 1 (2.4.1)"
REASON_CALLUP = "indkaldt til militæret (2.4.1)"
REASON_DISCHARGE = "hjemsendt fra militæret (2.4.1)"
REASON_CHOICE_MOVE = "flytning"
REASON_CHOICE_OWN = "selvvalgt"
FEE_FREE_MOVE = "flytning – gratis"
FEE_PAID_OWN = "selvvalgt lægeskift"
CARD_AFTER_DISCHARGE = "nyt sundhedskort efter hjemsendelse (3.1.7)"
FEE_FREE_DISCHARGE = "udtræden af gruppe 5 – gratis"


def note_discharge(on: date, doctor: str, card: bool) -> str:
    """2.4.1's closing note: the switch, the doctor after it, the card (3.1.7)."""
    card_text = " Nyt sundhedskort bestilt gratis (3.1.7)." if card else ""
    return f"Hjemsendt fra militæret {d(on)}: sikringsgruppe 5 → 1 (2.4.1). Læge: {doctor}.{card_text}"
STATE_POSTED_MARK = "statsudsendt"


def note_state_posted_after(event_date: date | None) -> str:
    return (f"CPR-hændelse 038 af {d(event_date)} vedrører en statsudsendt borger, ikke en værnepligtig. "
            f"Intet gruppeskift (2.5.1).")


def note_state_posted_before() -> str:
    return ("Den kommende CPR-hændelse 038 (indkaldelse til militæret) vedrører en statsudsendt borger "
            "med supplerende adresse, ikke en værnepligtig. Intet gruppeskift (2.5.1).")


# forced doctor choice, person unknown in LUNA (2.6.5)
REASON_G2 = "midlertidigt gruppe 2: gennemtving for sikrede ukendt i LUNA (2.6.5)"
REASON_G1 = "gruppe 2 → 1 med lukket læge (2.6.5)"
CLOSE_FORCED = "lægevalg gennemtvunget via gruppe 2 → 1 (2.6.5)"


def followup_disregard(practice: str, provider_number: str) -> str:
    return (f"Kontakt yder {practice} ({provider_number}) og bed dem se bort fra "
            f"dispensationsansøgningen (2.6.5).")


def note_forced(practice: str, provider_number: str) -> str:
    return (f"Lægevalg til lukket læge {practice} ({provider_number}) gennemført via sikringsgruppe 2 → 1, "
            f"da Sikrede er ukendt i LUNA (2.6.5).")


# == the event wizards' record texts (2.2.1, 2.6.7, 2.6.8, 2.7.3, 2.7.8) ==================

GL_REASON_GROUP7 = "udrejst til Grønland (2.2.1)"
GL_CLOSE_TO = "flyttet til Grønland – sikringsgruppe 7, lægevalg afsluttet (2.2.1)"
GL_CLOSE_FROM = "tilflyttet fra Grønland – opfølgning på gruppe 1 og automatisk læge (2.2.1)"

TRANSFER_FEE_REASON = "praksisoverdragelse – gratis (2.6.7)"
TRANSFER_CLOSE = "lægevalg ved praksisoverdragelse uden gebyr (2.6.7)"

CHILD_FREE_REASON = "gratis lægevalg ved PLO-hændelse (2.6.8)"
CHILD_FREE_FEE_REASON = "PLO-hændelse – gratis (2.6.8)"
CHILD_FREE_CLOSE = "gratis lægevalg på barnet foretaget (2.6.8)"

REDISCOVERY_REASON = "genfinding (2.7.3)"
REDISCOVERY_FEE_REASON = "genfinding – ny læge uden gebyr (2.7.3)"
REDISCOVERY_CLOSE = "genfinding – lægevalg foretaget (2.7.3)"

CHILD_HOME_FEE_REASON = "flytning – gratis (2.7.8)"
CHILD_HOME_CLOSE = "barn hjemtaget af forælder – lægeskift foretaget (2.7.8)"


def with_note(text: str, draft: Draft) -> str:
    extra = (draft.get("note") or "").strip()
    return f"{text} {extra}" if extra else text


def note_to_greenland(moved: date, ended: Sequence[DoctorChoice], groups: int, doctors: int) -> str:
    docs = ", ".join(f"{x.practice_name} ({x.provider_number})" if x.provider_number else "manglende lægevalg"
                     for x in ended) or "intet aktivt lægevalg"
    return (f"Flyttet til Grønland {d(moved)}: sikringsgruppe 7 (udrejst). Lægevalg afsluttet: {docs}. "
            f"Fremtidige registreringer fjernet: {groups} sikringsgruppeskift, {doctors} lægevalg (2.2.1).")


def followup_from_greenland(moved: date | None) -> str:
    return (f"Tilflytning fra Grønland {d(moved)}: kontrollér, at CPR-hændelsen har givet sikringsgruppe 1 "
            f"og en automatisk tildelt læge (2.2.1).")


def note_transfer(on: date, practice: str, number: str, old: str | None) -> str:
    before = f" fra {old}" if old else ""
    return (f"Lægevalg {practice} ({number}) pr. {d(on)} ved praksisoverdragelse{before}. Der er ikke opkrævet "
            f"gebyr, fordi borgeren ved praksisoverdragelse har ret til et gratis lægevalg, som i dag ikke kan "
            f"foretages gratis i selvbetjeningen (2.6.7).")


def note_child_free(parent_name: str, parent_cpr: str, practice: str, number: str, on: date) -> str:
    return (f"Gratis lægevalg på barnet: {practice} ({number}) pr. {d(on)} efter anmodning fra bopælsforælder "
            f"{parent_name} ({c(parent_cpr)}). PLO-hændelsen giver gratis lægevalg, men bopælsforælderen kan "
            f"ikke skifte læge for et barn under 15 år med en anden læge i selvbetjeningen (2.6.8).")


def note_child_home(parent_name: str, parent_cpr: str, practice: str, number: str, on: date) -> str:
    return (f"Barnet er hjemtaget til forælder {parent_name} ({c(parent_cpr)}) på forælderens "
            f"folkeregisteradresse. Lægeskift til {practice} ({number}) pr. {d(on)} foretaget af Borgerservice, "
            f"da selvbetjeningen afviser flytning til egen folkeregisteradresse; gratis (flytning) (2.7.8).")


def force_note(rule: str, basis: str) -> str:
    return f"Lukket læge gennemtvunget efter reglen »{FORCE_RULE_TEXT.get(rule, rule)}«: {basis.strip()}"


# The force rules in the record's words (the UI names them from core.json's force.<rule>).
FORCE_RULE_TEXT = {
    "doctor_accepted": "lægen har accepteret patienten",
    "return_to_last_gp": "tilbage til seneste læge i gruppe 1",
    "no_open_within_reach": "ingen to åbne læger inden for afstandskravet",
}
