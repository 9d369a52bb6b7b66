"""The HTTP API (FastAPI): push, pull, persons, CPR events, health, OpenAPI.

Every request carries ``Authorization: Bearer <token>`` (``sygesikring-server add-desk``
prints it once). A desk sees only persons of its municipality: another's is 404, exactly
like a person that does not exist. Business outcomes (conflict, rejected) are answers in a
200 body, per operation; malformed bodies are 4xx with a clear message, never a 500.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from .. import __version__ as app_version
from ..domain import cpr as cpr_mod
from . import notify
from .codec import dumps
from .storage import MAX_BATCH, MAX_PAGE, BodyMismatch, Desk, NotFound, Storage

log = logging.getLogger(__name__)


class OpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op_id: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=64)
    cpr: str = Field(pattern=r"^\d{10}$")
    payload: dict[str, Any]
    base_version: int = Field(ge=0)
    case_id: str | None = Field(default=None, max_length=64)


class PushIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    training: bool = Field(description="True when the desk's store is a training store: always refused")
    ops: list[OpIn] = Field(max_length=MAX_BATCH)


class PushOut(BaseModel):
    results: list[dict[str, Any]]
    head: int


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, max_length=64, description="event id (idempotency key); derived if absent")
    code: str = Field(min_length=1, max_length=16)
    cpr: str = Field(pattern=r"^\d{10}$")
    date: dt.date
    received: dt.date | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class EventsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(max_length=MAX_BATCH)


def event_id(e: dict[str, Any]) -> str:
    """A stable id for an event without one: the same event sent twice is one event."""
    import hashlib
    import json

    body = json.dumps({k: e.get(k) for k in ("code", "cpr", "date", "data")}, sort_keys=True)
    return "ev-" + hashlib.sha256(body.encode()).hexdigest()[:32]


CHANGES_DOC = (
    "{changes: [...], cursor, more}. A change is one of "
    "{seq, kind: 'person', cpr, version, municipality, name, doc, tasks} where doc is a JSON *text*: the person "
    "state in the domain codec with tasks empty (stored by the desk as is), and tasks the list of "
    "its tasks; {seq, kind: 'removal', cpr, version}: the person left the desk's municipality; "
    "{seq, kind: 'provider', doc}."
)


def render_changes(page: list[tuple[Any, ...]], cursor: int, more: bool) -> str:
    """The body of ``GET /v1/changes``: the stored JSON texts spliced in, never decoded."""
    parts = []
    for e in page:
        kind = e[1]
        if kind == "person":
            s, _k, cpr, version, name, doc, tasks, muni = e
            parts.append(f'{{"seq":{s},"kind":"person","cpr":"{cpr}","version":{version},"municipality":{muni},'
                         f'"name":{dumps(name)},"doc":{dumps(doc)},"tasks":{tasks}}}')
        elif kind == "removal":
            parts.append(f'{{"seq":{e[0]},"kind":"removal","cpr":"{e[2]}","version":{e[3]}}}')
        else:
            parts.append(f'{{"seq":{e[0]},"kind":"provider","doc":{e[3]}}}')
    return f'{{"changes":[{",".join(parts)}],"cursor":{cursor},"more":{"true" if more else "false"}}}'


def create_app(storage: Storage) -> FastAPI:
    app = FastAPI(title="sygesikring-server", version=app_version,
                  description="System of record for Sygesikring desks: exactly-once push, cursor pull.")
    app.state.storage = storage
    notifier = notify.notifier_for(storage)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse({"detail": "invalid request body", "errors": errors}, status_code=422)

    def desk_dep(request: Request) -> Desk:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "missing token", headers={"WWW-Authenticate": "Bearer"})
        desk = storage.desk_for_token(token.strip())
        if desk is None:
            raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
        return desk

    def desk_only(desk: Desk = Depends(desk_dep)) -> Desk:
        if desk.role != "desk":
            raise HTTPException(403, "this credential is not a desk")
        return desk

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "head": storage.head(), "db": storage.engine.dialect.name, "notify": "long-poll"}

    @app.get("/v1/whoami")
    def whoami(desk: Desk = Depends(desk_dep)) -> dict[str, Any]:
        return {"id": desk.id, "name": desk.name, "municipality": desk.municipality, "role": desk.role}

    @app.post("/v1/push", response_model=PushOut)
    def push(body: PushIn, desk: Desk = Depends(desk_only)) -> dict[str, Any]:
        if body.training:
            raise HTTPException(403, "training stores never push")
        try:
            ops = [{"op_id": o.op_id, "kind": o.kind, "cpr": o.cpr, "payload": o.payload,
                    "base_version": o.base_version, "case_id": o.case_id} for o in body.ops]
            results, head = storage.push_batch(desk, ops)  # (model_dump deep-copies every payload)
        except BodyMismatch as exc:
            raise HTTPException(422, str(exc)) from exc
        # The answers are plain JSON already: encoded once, not re-validated against PushOut.
        return Response(dumps({"results": results, "head": head}), media_type="application/json")

    @app.get("/v1/changes", responses={200: {"description": CHANGES_DOC}})
    async def changes(cursor: int = Query(0, ge=0), limit: int = Query(1000, ge=1, le=MAX_PAGE),
                      wait: float = Query(0, ge=0, le=notify.MAX_WAIT, description=notify.WAIT_DOC),
                      desk: Desk = Depends(desk_only)) -> Response:
        page, nxt, more = await notifier.pull(storage, desk, cursor, limit, wait)
        return Response(render_changes(page, nxt, more), media_type="application/json")

    @app.get("/v1/persons/{cpr}")
    def person(cpr: str, desk: Desk = Depends(desk_only)) -> dict[str, Any]:
        from ..domain.model import to_json

        try:
            return to_json(storage.person(desk, cpr))
        except NotFound:
            raise HTTPException(404, "no such person") from None

    @app.post("/v1/cpr-events")
    def cpr_events(body: EventsIn, desk: Desk = Depends(desk_dep)) -> dict[str, Any]:
        from ..catalogue import load_catalogue

        if desk.role != "feed":
            raise HTTPException(403, "only a feed credential may post CPR events")
        events = []
        for e in body.events:
            d = e.model_dump(mode="json")  # dates as ISO text
            d["id"] = d["id"] or event_id(d)
            events.append(d)
        cat = load_catalogue()
        return {"results": storage.ingest_events(desk, events, cat.events, make_suggest(storage, cat))}

    log.debug("app created on %s (%s)", storage.engine.dialect.name, cpr_mod.__name__)
    return app


def make_suggest(storage: Storage, cat: Any) -> Any:
    """The workaround the catalogue suggests for a new task (None when it has none)."""
    provs = storage.providers()

    def suggest(code: str, state: Any, today: Any) -> str | None:
        try:
            s = cat.suggest(code, state, today, provs.get)
        except Exception:  # a suggestion is a hint: never lose the event over it
            log.exception("suggestion failed for event %s", code)
            return None
        return getattr(s, "workaround_id", None)

    return suggest


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory sygesikring_tui.server.app:app_from_env``."""
    import os

    from .cli import default_db

    return create_app(Storage(os.environ.get("SYGESIKRING_SERVER_DB") or default_db()))

