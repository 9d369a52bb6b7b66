"""Attention points as live checks in the wizard engine: each blocks or warns where it should
and stays silent where it should not.

AP1 a future switch to 2/4/5/7/8/9 blocks a new doctor choice: shown at the start of every
wizard that offers one (and refused at commit by the domain). AP2 every operation that sends a
letter carries the Digital Post reminder on the review. AP3 a closed doctor chosen for a minor
that a parent has: a warning to acknowledge before commit. AP4 a switch to group 4 shows the
040/041 history and needs confirmation.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from tests.factories import CLOSED, FAR, OPEN, a_cpr, a_person, a_task

from screens.app import make_app
from screens.wizards.engine import Toggle, WizardScreen, tr
from sygesikring_tui.domain.model import CprEvent, GroupRegistration, Relation, RelationKind, TaskStatus
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.domain.wizards import WIZARDS, Field, Msg, Option, Step, Wizard
from sygesikring_tui.domain.wizards.common import ACK_AP4, review_attention, start_attention
from sygesikring_tui.i18n import t
from sygesikring_tui.store import Store, open_store
from tests.wizard_kit import TODAY, ctx_for, put

SIZE = (80, 24)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "desk.db"
    with open_store(path) as s, s.transaction():
        s.upsert_providers([OPEN, CLOSED, FAR])
    return path


@pytest.fixture
def store(store_path: Path) -> Store:
    s = open_store(store_path, create=False)
    yield s
    s.close()


def _choice(cpr: str, provider=CLOSED, forced: bool = True) -> PlannedOp:
    payload = {"provider_number": provider.provider_number, "practice_name": provider.practice_name,
               "reason": "selvvalgt", "effective": TODAY.isoformat(), "forced": forced,
               "fee": {"paid": True, "amount": 225, "reason": "selvvalgt lægeskift", "code": "own_choice"}}
    if forced:  # a child of 10: not the turning-15 rule, the doctor accepted them
        payload.update(force_rule="doctor_accepted", force_basis="Lægen har accepteret barnet")
    return PlannedOp(cpr, "doctor_choice", payload)


def _family(store: Store, *, child_born: date = date(2016, 3, 3), parent_doctor=CLOSED) -> tuple[str, str]:
    parent = a_cpr(date(1985, 1, 7), male=False, seed=61)
    child = a_cpr(child_born, seed=62)
    p = a_person(parent, doctor=parent_doctor)
    c = replace(a_person(child, doctor=OPEN),
                relations=(Relation(RelationKind.RESIDENCE_PARENT, parent, "Mor Jensen", child_born),))
    put(store, p, c)
    return parent, child


# -- AP1 ---------------------------------------------------------------------------------------

def test_ap1_block_is_shown_at_the_start_of_a_doctor_choice_wizard_with_a_future_switch(store: Store) -> None:
    number = a_cpr(seed=63)
    st = a_person(number)
    put(store, replace(st, groups=st.groups + (GroupRegistration("gf", 5, date(2027, 1, 5)),)))
    w = WIZARDS["discharge"]  # offers a doctor choice (provider field)
    msgs = start_attention(w, ctx_for(store, w, number, None))
    assert [(m.key, m.params["group"], m.params["date"]) for m in msgs] == [("attention.ap1", 5, "05-01-2027")]


def test_ap1_is_silent_without_a_future_switch_and_for_wizards_without_a_doctor_choice(store: Store) -> None:
    number = a_cpr(seed=64)
    st = a_person(number)
    put(store, st)
    w = WIZARDS["discharge"]
    assert start_attention(w, ctx_for(store, w, number, None)) == []
    put(store, replace(store.load_person(number), groups=st.groups + (GroupRegistration("gf", 1, date(2027, 1, 5)),)))
    assert start_attention(w, ctx_for(store, w, number, None)) == []  # group 1 does not block
    put(store, replace(store.load_person(number), groups=st.groups + (GroupRegistration("gf", 4, date(2027, 1, 5)),)))
    card = WIZARDS["marriage_name_card"]  # no doctor choice in it
    assert start_attention(card, ctx_for(store, card, number, None)) == []


# -- AP2 ---------------------------------------------------------------------------------------

def test_ap2_reminder_once_naming_every_letter_operation_and_none_for_notes(store: Store) -> None:
    number = a_cpr(seed=65)
    put(store, a_person(number))
    ctx = ctx_for(store, WIZARDS["prison_switch"], number, None)
    planned = [PlannedOp(number, "note_add", {"text": "x"}),
               PlannedOp(number, "card_order", {"ordered_on": "2026-11-25", "fee": {"paid": False, "amount": 0, "reason": "x", "code": "first_card"}}),
               PlannedOp(number, "group_switch", {"group": 2, "effective": "2026-11-25"})]
    flags = review_attention(planned, ctx.states, ctx, {}, {})
    # once for the review, naming both operations that send a letter (not once under each)
    assert [(f.msg.key, f.msg.params["ops"], f.msg.params["n"], f.ack) for f in flags] == [
        ("wizard.attn.ap2", [2, 3], 2, None)]
    assert tr(flags[0].msg) == t("wizard.attn.ap2", n=2, ops=[2, 3]) and "operation 2 og 3 sender breve" in tr(flags[0].msg)
    assert review_attention(planned[:1], ctx.states, ctx, {}, {}) == []


# -- AP3 ---------------------------------------------------------------------------------------

def test_ap3_closed_doctor_of_a_parent_for_a_minor_needs_acknowledgement(store: Store) -> None:
    parent, child = _family(store)
    w = WIZARDS["prison_switch"]
    ctx = ctx_for(store, w, child, None)
    parents = {parent: store.load_person(parent)}
    flags = [f for f in review_attention([_choice(child)], ctx.states, ctx, parents, {})
             if f.msg.key != "wizard.attn.ap2"]
    assert [(f.msg.key, f.ack) for f in flags] == [("attention.ap3", f"ap3:{child}:{CLOSED.provider_number}")]


@pytest.mark.parametrize("case", ["open_doctor", "adult", "parent_elsewhere"])
def test_ap3_is_silent_for_an_open_doctor_an_adult_or_a_parent_on_another_doctor(store: Store, case: str) -> None:
    born = date(2000, 3, 3) if case == "adult" else date(2016, 3, 3)
    parent, child = _family(store, child_born=born, parent_doctor=FAR if case == "parent_elsewhere" else CLOSED)
    provider = OPEN if case == "open_doctor" else CLOSED
    ctx = ctx_for(store, WIZARDS["prison_switch"], child, None)
    flags = review_attention([_choice(child, provider, forced=not provider.open)], ctx.states, ctx,
                             {parent: store.load_person(parent)}, {})
    assert [f.msg.key for f in flags] == ["wizard.attn.ap2"]


# -- AP4 ---------------------------------------------------------------------------------------

def test_ap4_a_switch_to_group4_shows_the_history_and_needs_confirmation(store: Store) -> None:
    number = a_cpr(seed=66)
    put(store, replace(a_person(number), events=(CprEvent("e1", "040", date(2026, 11, 10), date(2026, 11, 11)),
                                                 CprEvent("e2", "041", date(2026, 11, 12), date(2026, 11, 13)))))
    ctx = ctx_for(store, WIZARDS["prison_switch"], number, None)
    to4 = [PlannedOp(number, "group_switch", {"group": 4, "effective": "2026-11-25"})]
    ap4 = [f for f in review_attention(to4, ctx.states, ctx, {}, {}) if f.msg.key == "attention.ap4"]
    assert len(ap4) == 1 and ap4[0].ack == f"ap4:{number}"
    assert [(m.params["code"], m.params["date"]) for m in ap4[0].lines] == [("041", "12-11-2026"), ("040", "10-11-2026")]
    # confirmed inside the wizard: shown, but not asked again
    ap4 = [f for f in review_attention(to4, ctx.states, ctx, {}, {ACK_AP4: "yes"}) if f.msg.key == "attention.ap4"]
    assert len(ap4) == 1 and ap4[0].ack is None
    # a switch to another group raises no AP4
    to1 = [PlannedOp(number, "group_switch", {"group": 2, "effective": "2026-11-25"})]
    assert [f.msg.key for f in review_attention(to1, ctx.states, ctx, {}, {})] == ["wizard.attn.ap2"]


# -- in the engine: the review blocks the commit until acknowledged ---------------------------------

def _test_wizard(plan) -> Wizard:
    return Wizard(key="prison_switch", workaround_ids=("AP4",), title="wizard.prison.title",
                  steps=(Step("only", "wizard.cards.step.note",
                              (Field("pick", "provider", "wizard.field.note",
                                     options=lambda dr, cx: [Option(OPEN.provider_number, Msg("wizard.ev.open"))],
                                     default=lambda dr, cx: OPEN.provider_number),)),),
                  plan_fn=plan)


async def _run_to_review(app, store: Store, wizard: Wizard, cpr: str, task_id: str | None, pilot) -> WizardScreen:
    case = store.create_case("AP4", cpr, task_id, {"_wizard": wizard.key})
    await app.push_screen(WizardScreen(wizard, case))
    await pilot.pause()
    await pilot.press("ctrl+n")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, WizardScreen) and screen.on_review
    return screen


async def test_engine_refuses_commit_until_the_ap4_warning_is_acknowledged(store_path: Path) -> None:
    with open_store(store_path, create=False) as s:
        number = a_cpr(seed=67)
        put(s, replace(a_person(number), events=(CprEvent("e1", "040", date(2026, 11, 10), date(2026, 11, 11)),),
                       tasks=(a_task(number, "040", "t-040"),)))
    wizard = _test_wizard(lambda dr, st, cx: [
        PlannedOp(cx.cpr, "group_switch", {"group": 4, "effective": "2026-11-20"}),
        PlannedOp(cx.cpr, "task_close", {"task_id": "t-040", "reason": "x"})])
    app = make_app(store_path, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _run_to_review(app, app.store, wizard, number, "t-040", pilot)
        body = str(screen.query_one("#attn-0").render())
        assert "CPR-040 af 10-11-2026" in body
        ack = screen.query_one(Toggle)
        assert t("wizard.toggle.off") in str(ack.render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen  # refused
        assert t("wizard.attn.ack_missing") in str(screen.query_one("#wiz-step-error").render())
        await pilot.press("space")
        await pilot.pause()
        assert t("wizard.toggle.on") in str(ack.render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, WizardScreen)
    with open_store(store_path, create=False) as s:
        st = s.load_person(number)
        assert st.current_group(TODAY).group == 4 and st.task("t-040").status == TaskStatus.CLOSED


async def test_engine_ap3_warning_must_be_acknowledged_and_is_absent_for_an_open_doctor(store_path: Path) -> None:
    with open_store(store_path, create=False) as s:
        parent, child = _family(s)
    closed = _test_wizard(lambda dr, st, cx: [_choice(cx.cpr)])
    open_ = _test_wizard(lambda dr, st, cx: [_choice(cx.cpr, OPEN, forced=False)])
    app = make_app(store_path, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _run_to_review(app, app.store, open_, child, None, pilot)
        assert not screen.query(Toggle) and not screen.query("#attn-1")
        only = str(screen.query_one("#attn-0").render())  # AP2 once, naming the doctor choice
        assert "Opmærksomhedspunkt 2: operation 1 sender et brev" in only
        assert "Digital Post" not in str(screen.query_one("#wiz-review").render())
        await pilot.press("escape")
        await pilot.pause()
        screen = await _run_to_review(app, app.store, closed, child, None, pilot)
        assert "Opmærksomhedspunkt 3" in str(screen.query_one("#attn-0").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("j", "ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, WizardScreen)
    with open_store(store_path, create=False) as s:
        assert s.load_person(child).current_doctor(TODAY).provider_number == CLOSED.provider_number


async def test_engine_shows_the_ap1_block_on_the_first_step_and_not_without_a_future_switch(store_path: Path) -> None:
    with open_store(store_path, create=False) as s:
        blocked, free = a_cpr(seed=68), a_cpr(seed=69)
        st = a_person(blocked)
        put(s, replace(st, groups=st.groups + (GroupRegistration("gf", 7, date(2027, 2, 1)),)), a_person(free))
    wizard = _test_wizard(lambda dr, st, cx: [_choice(cx.cpr, OPEN, forced=False)])
    app = make_app(store_path, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        for number, shown in ((blocked, True), (free, False)):
            case = app.store.create_case("AP4", number, None, {"_wizard": wizard.key})
            await app.push_screen(WizardScreen(wizard, case))
            await pilot.pause()
            banner = app.screen.query_one("#wiz-attention")
            assert banner.has_class("-empty") is not shown
            if shown:
                assert "sikringsgruppe 7 pr. 01-02-2027" in str(banner.render())
                await pilot.press("ctrl+n")  # the review: the domain refuses the choice
                await pilot.pause()
                assert "rule.future_switch_blocks" not in str(app.screen.query_one("#wiz-step-error").render())
                assert not app.screen.query_one("#wiz-step-error").has_class("-empty")
            await pilot.press("escape")
            await pilot.pause()
