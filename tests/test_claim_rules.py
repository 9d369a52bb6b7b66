"""The claiming rules of ``domain.operations``: a claim never overwrites another's; the holder
or a team lead releases or gives a task on; a closed task is claimed by nobody."""

from dataclasses import replace
from datetime import date

from sygesikring_tui.domain.model import Operation, TaskStatus
from sygesikring_tui.domain.operations import RuleContext, apply, check
from tests.factories import a_person, a_task

CTX = RuleContext(date(2026, 11, 25), lambda _n: None)
LEAD = replace(CTX, team_lead=lambda i: i == "TL")


def op(state, kind, author, **payload):
    return Operation(f"op-{kind}-{author}", kind, state.cpr,
                     {"at": "2026-11-25T10:00:00+01:00", "author": author, **payload}, state.version)


def person_with_task():
    s = a_person()
    return replace(s, tasks=(a_task(s.cpr),))


def held_by(who: str):
    s = person_with_task()
    return apply(s, op(s, "task_claim", who, task_id=s.tasks[0].id, claimant=who), CTX)


def test_a_claim_records_who_and_when_and_a_second_claimant_is_told_whose_and_since_when():
    s = held_by("AB")
    t = s.tasks[0]
    assert (t.assignee, t.claimed_at) == ("AB", "2026-11-25T10:00:00+01:00")
    assert s.history[-1].action == "task_claim"
    [v] = check(s, op(s, "task_claim", "CD", task_id=t.id, claimant="CD"), CTX)
    assert (v.code, v.params) == ("rule.task_claimed", {"by": "AB", "since": "2026-11-25"})
    assert [v.code for v in check(s, op(s, "task_claim", "AB", task_id=t.id, claimant="AB"), CTX)] == [
        "rule.task_claimed_already"]


def test_only_the_holder_or_a_team_lead_releases_or_gives_the_task_on():
    s = held_by("AB")
    tid = s.tasks[0].id
    assert [v.code for v in check(s, op(s, "task_release", "CD", task_id=tid), CTX)] == ["rule.task_claimed"]
    assert check(s, op(s, "task_release", "AB", task_id=tid), CTX) == []
    assert check(s, op(s, "task_release", "TL", task_id=tid), LEAD) == []
    assert check(s, op(s, "task_claim", "TL", task_id=tid, claimant="CD"), LEAD) == []  # reassign
    assert check(s, op(s, "task_claim", "AB", task_id=tid, claimant="CD"), CTX) == []  # hand-over
    released = apply(s, op(s, "task_release", "AB", task_id=tid), CTX)
    assert (released.tasks[0].assignee, released.tasks[0].claimed_at) == (None, None)
    assert [v.code for v in check(released, op(released, "task_release", "AB", task_id=tid), CTX)] == [
        "rule.task_not_claimed"]


def test_giving_a_free_task_to_someone_else_is_the_team_leads_and_closed_tasks_are_nobodys():
    s = person_with_task()
    tid = s.tasks[0].id
    assert [v.code for v in check(s, op(s, "task_claim", "AB", task_id=tid, claimant="CD"), CTX)] == [
        "rule.task_assign_lead_only"]
    assert check(s, op(s, "task_claim", "TL", task_id=tid, claimant="CD"), LEAD) == []
    closed = replace(s, tasks=(replace(s.tasks[0], status=TaskStatus.CLOSED),))
    assert [v.code for v in check(closed, op(closed, "task_claim", "AB", task_id=tid, claimant="AB"), CTX)] == [
        "rule.task_closed"]
