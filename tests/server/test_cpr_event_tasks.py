"""One CPR-event -> task rule (``domain.cpr_event_tasks``): the task the server makes for an
event is exactly the task the rule makes — the same rule the training generator uses."""

from __future__ import annotations

import random
from datetime import date, timedelta

from srvkit import Env, load_records, make_person

from sygesikring_tui import training
from sygesikring_tui.catalogue import load_catalogue
from sygesikring_tui.domain import cpr_event_tasks


def test_the_server_makes_the_task_the_shared_rule_makes(env: Env):
    p = make_person(random.Random(51), n_tasks=0)
    env.storage.load(load_records([p]))
    feed = env.storage.add_desk("CPR", None, role="feed")[1]
    with env.http(feed) as http:
        [ans] = http.post("/v1/cpr-events", json={"events": [
            {"id": "ev-rule", "code": "038", "cpr": p.cpr, "date": "2026-02-27", "received": "2026-03-01"}]}
        ).json()["results"]
    after = env.storage.all_persons()[p.cpr]
    [task] = after.tasks
    cat = load_catalogue()
    expected = cpr_event_tasks.task_for_event(
        cpr_event_tasks.task_id_for_event("ev-rule"), "038", "ev-rule", date(2026, 3, 1), cat.events["038"],
        after, date(2026, 3, 2), cat.suggestion_rules, env.storage.providers().get, cat.retired())
    assert task == expected and ans["task_id"] == task.id
    assert task.due == date(2026, 3, 1) + timedelta(days=cat.events["038"].due_days)


def test_the_training_generator_takes_its_tasks_from_the_same_rule():
    assert training.task_for_event is cpr_event_tasks.task_for_event
