"""A server that answers a pull with something that is not a page of changes: the desk refuses
the page whole with a message naming the fault, writes nothing of it and keeps its cursor
(the pages before it stay, so nothing is lost and the next round resumes there)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import httpx
import pytest
from srvkit import Env, load_records, make_person

from sygesikring_tui import sync
from sygesikring_tui.store import open_store, sync_state


class Mangling(httpx.BaseTransport):
    """Passes requests to the real server; the ``n``-th answer of ``/v1/changes`` (from 1)
    has its body replaced by ``mangle(page as JSON values)`` (bytes: sent as they are)."""

    def __init__(self, inner: httpx.BaseTransport, n: int, mangle: Callable[[dict], object]) -> None:
        self.inner = inner
        self.n = n
        self.mangle = mangle
        self.seen = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.inner.handle_request(request)
        if request.url.path != "/v1/changes":
            return resp
        self.seen += 1
        if self.seen != self.n:
            return resp
        resp.read()
        bad = self.mangle(json.loads(resp.content))
        body = bad if isinstance(bad, bytes) else json.dumps(bad).encode()
        return httpx.Response(200, content=body, headers={"content-type": "application/json"}, request=request)


def _person(page: dict) -> dict:
    return next(c for c in page["changes"] if c["kind"] == "person")


def _set(path: Callable[[dict], dict], key: str, value: object) -> Callable[[dict], dict]:
    def mangle(page: dict) -> dict:
        path(page)[key] = value
        return page
    return mangle


def _drop(path: Callable[[dict], dict], key: str) -> Callable[[dict], dict]:
    def mangle(page: dict) -> dict:
        del path(page)[key]
        return page
    return mangle


GARBAGE = {
    "not JSON": (lambda page: b"<html>502 Bad Gateway</html>", "not a page of changes"),
    "no cursor": (_drop(lambda p: p, "cursor"), "cursor"),
    "version as text": (_set(_person, "version", "seven"), "$.changes["),
    "unknown kind": (_set(_person, "kind", "alien"), "kind"),
    "task without due": (_drop(lambda p: _person(p)["tasks"][0], "due"), "due"),
    "due not a date": (_set(lambda p: _person(p)["tasks"][0], "due", "2026-13-45"), "due"),
    "task status unknown": (_set(lambda p: _person(p)["tasks"][0], "status", "maybe"), "status"),
    "doc not text": (_set(_person, "doc", {"person": None}), "doc"),
}


@pytest.mark.parametrize("what", sorted(GARBAGE))
@pytest.mark.parametrize("bad_page", [1, 2])
def test_a_garbage_page_is_refused_whole_with_its_fault_named_and_the_pages_before_it_kept(
        sqlite_env: Env, tmp_path, what: str, bad_page: int):
    people = [make_person(random.Random(i), n_tasks=2) for i in range(4)]
    sqlite_env.storage.load(load_records(people))
    mangle, named = GARBAGE[what]
    token = sqlite_env.desk()
    desk = open_store(tmp_path / "desk.db")
    client = sqlite_env.client(token, transport=Mangling(sqlite_env.transport(), bad_page, mangle))
    with pytest.raises(sync.SyncError) as err:
        sync.pull(desk, client, page=3)  # 4 persons, then 2 providers: two pages
    assert err.value.kind == "server"
    assert named in str(err.value)
    assert not any(p.cpr in str(err.value) for p in people)  # no CPR number in a logged message
    n_persons = desk.conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    if bad_page == 1:
        assert (sync_state.cursor(desk), n_persons) == (0, 0)
    else:  # the first page is in, with its cursor; nothing of the refused one
        assert sync_state.cursor(desk) > 0
        assert n_persons == 3
    # the server mends its ways: the next pull resumes at the cursor and gets everything
    sync.pull(desk, sqlite_env.client(token), page=3)
    assert {p.cpr for p in people} == {r[0] for r in desk.conn.execute("SELECT cpr FROM persons")}
    assert desk.conn.execute("SELECT count(*) FROM tasks").fetchone()[0] == 8
