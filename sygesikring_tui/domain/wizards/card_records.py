"""Record texts and card lines shared by the health-card wizards (2.7.7, 3.1.7, CPR 040).
"""

from __future__ import annotations

from datetime import date

from ..model import PersonState
from .base import Msg, WizardContext
from .texts import d


# -- record texts (Danish) --------------------------------------------------------------------

CARD_REASON_MARRIAGE = "nyt navn efter vielse (2.7.7)"
FEE_FREE_MARRIAGE = "navneændring ved vielse inden for 3 måneder – gratis"
FEE_PAID_MARRIAGE = "navneændring mere end 3 måneder fra vielsen – betalt"
CLOSE_MARRIAGE_CARD = "nyt sundhedskort efter navneændring ved vielse (2.7.7)"
CLOSE_MARRIAGE_NO_CARD = "intet nyt sundhedskort bestilt (2.7.7)"

CARD_REASON_GROUP45 = "nyt sundhedskort efter udtræden af gruppe {group} (3.1.7)"
FEE_FREE_GROUP45 = "udtræden af gruppe 4/5 – gratis"
REASON_LEFT_GROUP = "løsladt/hjemsendt – udtræden af gruppe {group} (3.1.7)"
CLOSE_GROUP45 = "udtræden af gruppe {group} behandlet (3.1.7)"

REASON_PRISON = "afsoning over 3 måneder – CPR-040 (opmærksomhedspunkt 4)"
CLOSE_PRISON = "skift til sikringsgruppe 4 efter kontrol af notatlinjer (CPR-040)"
CLOSE_PRISON_MISTAKE = "notatlinjer i CPR udfyldt ved en fejl – intet gruppeskift (CPR-040/041)"


def note_marriage(order: str, married: date, changed: date, amount: int) -> str:
    if order == "free":
        return (f"Nyt gratis sundhedskort bestilt med det ændrede navn: navneændring {d(changed)} "
                f"ligger højst 3 måneder fra vielsen {d(married)} (2.7.7).")
    if order == "paid":
        return (f"Nyt sundhedskort bestilt mod betaling ({amount} kr.): navneændring {d(changed)} ligger "
                f"mere end 3 måneder fra vielsen {d(married)} (2.7.7).")
    return (f"Intet nyt sundhedskort bestilt: navneændring {d(changed)}, vielse {d(married)} (2.7.7).")


def note_group45(left: int, to: int, on: date, card: bool) -> str:
    card_text = ("Sundhedskortet blev inddraget og ikke udleveret igen: nyt gratis sundhedskort bestilt."
                 if card else "Sundhedskortet blev ikke inddraget: intet nyt kort bestilt.")
    return f"Skift fra sikringsgruppe {left} til {to} pr. {d(on)} (løsladelse/hjemsendelse). {card_text} (3.1.7)"


def note_prison(decision: str, on: date | None) -> str:
    if decision == "switch":
        return (f"Notatlinje 3 og 4 i CPR er kontrolleret og relevante: skift til sikringsgruppe 4 pr. {d(on)} "
                f"(afsoning over 3 måneder).")
    return ("Notatlinje 3 og 4 i CPR er kontrolleret: udfyldt ved en fejl (CPR-040/041). "
            "Intet skift til sikringsgruppe 4.")


# -- shared ----------------------------------------------------------------------------------

def _fee_table(ctx: WizardContext) -> dict[int, int]:
    return {ctx.today.year: ctx.card_fee}


def iso_or_empty(value: date | None) -> str:
    return value.isoformat() if value else ""


def card_lines(state: PersonState) -> list[Msg]:
    if not state.cards:
        return [Msg("wizard.cards.ev.cards_none")]
    out = []
    for c in sorted(state.cards, key=lambda c: c.ordered_on, reverse=True)[:3]:
        out.append(Msg("wizard.cards.ev.card", {"date": d(c.ordered_on), "status_key": f"wizard.cards.status.{c.status.value}",
                                                "reason": c.reason or "-"}))
    return out
