"""The HTTP API (FastAPI): push, pull, persons, CPR events, health, OpenAPI.

Every request carries ``Authorization: Bearer <token>`` (``sygesikring-server add-desk``
prints it once). A desk sees only persons of its municipality: another's is 404, exactly
like a person that does not exist. Business outcomes (conflict, rejected) are answers in a
200 body, per operation; malformed bodies are 4xx with a clear message, never a 500.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from types import SimpleNamespace
from typing import Any

from fastapi import Depends, FastAPI, Header, HTTPException, Path, Query, Request, Security
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__ as app_version
from ..domain import cpr_event_tasks
from ..logs import mask_text
from . import notify
from .caseworkers import SignInRefused, public
from .codec import dumps
from .storage import MAX_BATCH, MAX_PAGE, BodyMismatch, Desk, NotFound, OpIdInUse, Storage
from .sync_service import json_problem

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # bytes per request body, unless configured (--max-body, $SYGESIKRING_SERVER_MAX_BODY)
MAX_CURSOR = 1 << 62
MAX_VERSION = (1 << 31) - 1
LINE = r"^[^\x00-\x1f\x7f]+$"  # one line of text: no control characters (a NUL never reaches PostgreSQL)
CPR = r"^\d{10}$"


class _Checked(BaseModel):
    @model_validator(mode="after")
    def _storable(self) -> Any:
        # An operation's payload is judged per operation by the sync service (a rejected
        # answer, the rest of the batch goes on); everything else here, for the whole request.
        why = json_problem({k: v for k, v in self if k != "payload"})
        if why:
            raise ValueError(why)
        return self


class OpIn(BaseModel):
    # Not a _Checked: its fields other than the payload are text and whole numbers, and
    # pydantic refuses text that is not valid Unicode (a lone surrogate) by itself; the
    # payload is judged by the sync service (saves a Python call per operation, 500 a push).
    model_config = ConfigDict(extra="forbid")
    op_id: str = Field(min_length=1, max_length=64, pattern=LINE)
    kind: str = Field(min_length=1, max_length=64, pattern=LINE)
    cpr: str = Field(pattern=CPR)
    payload: dict[str, Any]
    base_version: int = Field(ge=0, le=MAX_VERSION, strict=True)
    case_id: str | None = Field(default=None, max_length=64, pattern=LINE)


class PushIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    training: bool = Field(strict=True, description="True when the desk's store is a training store: always refused")
    ops: list[OpIn] = Field(max_length=MAX_BATCH)


class PushOut(BaseModel):
    results: list[dict[str, Any]] = Field(description="one answer per operation, in order: applied, duplicate, "
                                                      "conflict, rejected or blocked")
    head: int


class EventIn(_Checked):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, min_length=1, max_length=64, pattern=LINE,
                           description="event id (idempotency key); derived if absent")
    code: str = Field(min_length=1, max_length=16, pattern=LINE)
    cpr: str = Field(pattern=CPR)
    date: dt.date
    received: dt.date | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("date", "received", mode="before")
    @classmethod
    def _date_as_text(cls, v: Any) -> Any:
        if v is not None and not isinstance(v, str):  # not a number of seconds since 1970
            raise ValueError("a date as YYYY-MM-DD text")
        return v


class EventsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(max_length=MAX_BATCH)


class EventsOut(BaseModel):
    results: list[dict[str, Any]]


class ChangesOut(BaseModel):
    changes: list[dict[str, Any]]
    cursor: int
    more: bool


class HealthOut(BaseModel):
    status: str
    head: int
    db: str
    notify: str = Field(description="how a desk learns of new changes: long-poll (GET /v1/changes?wait=)")


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    initials: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9]+$")
    secret: str = Field(min_length=1, max_length=64, pattern=LINE)


class CaseworkerOut(BaseModel):
    initials: str
    name: str
    team_lead: bool


class SignInOut(CaseworkerOut):
    session: str = Field(description="the session token: send it as X-Caseworker-Session; sign out with it")
    expires: str = Field(description="when the session ends unless signed out before (UTC, ISO)")


class SignOutOut(BaseModel):
    ended: bool = Field(description="false when the session had ended, expired or was not this desk's")


class CaseworkersOut(BaseModel):
    caseworkers: list[CaseworkerOut]


class WhoamiOut(BaseModel):
    id: int
    name: str
    municipality: int | None
    role: str


class ErrorOut(BaseModel):
    detail: str


class TooLargeOut(BaseModel):
    detail: str
    limit: int = Field(description="the largest request body accepted, in bytes")


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class InvalidOut(BaseModel):
    detail: str
    errors: list[ErrorItem]


def _answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of the error answers a route gives."""
    known: dict[int, tuple[type[BaseModel], str]] = {
        400: (ErrorOut, "the body is not JSON the server can read"),
        401: (ErrorOut, "missing, unknown or revoked token"),
        403: (ErrorOut, "this credential may not do this"),
        404: (ErrorOut, "no such person, or not this desk's municipality's"),
        409: (ErrorOut, "op_id in use: another desk sent an operation with this op_id"),
        413: (TooLargeOut, "the request body is larger than the server accepts"),
        422: (InvalidOut, "the request does not match the schema, or an op_id was reused with another body"),
        500: (ErrorOut, "the server failed (logged with its traceback)"),
    }
    return {c: {"model": known[c][0], "description": known[c][1]} for c in codes}


def event_id(e: dict[str, Any]) -> str:
    """A stable id for an event without one: the same event sent twice is one event."""
    body = json.dumps({k: e.get(k) for k in ("code", "cpr", "date", "data")}, sort_keys=True)
    return "ev-" + hashlib.sha256(body.encode()).hexdigest()[:32]


def too_large(limit: int) -> dict[str, Any]:
    return {"detail": f"request body too large: at most {limit} bytes", "limit": limit}


class Guard:
    """Outermost ASGI layer: a request body whose Content-Length is over ``max_body`` is 413
    at once (FastAPI's ``max_body_size`` counts a body streamed without one), and an exception
    no handler took is logged with its traceback — CPR numbers masked — and answered 500 with
    a JSON body."""

    def __init__(self, app: Any, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        limit = self.max_body

        async def reply(status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(data)).encode())]})
            await send({"type": "http.response.body", "body": data})

        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await reply(413, too_large(limit))
            return

        async def tracking_send(msg: Any) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:  # (Starlette has sent its 500 already, from the app's handler)
            log.exception("unhandled error in %s %s", scope.get("method"), mask_text(scope.get("path", "")))
            if not started:
                await reply(500, {"detail": "internal server error"})


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


def create_app(storage: Storage, max_body: int = MAX_BODY) -> FastAPI:
    """The API over ``storage``; request bodies above ``max_body`` bytes are refused (413)."""
    app = _GuardedApp(title="sygesikring-server", version=app_version,
                  description="System of record for Sygesikring desks: exactly-once push, cursor pull. "
                              f"Request bodies: at most {max_body} bytes.",
                  max_body_size=max_body)
    app.state.storage = storage
    app.state.max_body = max_body
    notifier = notify.notifier_for(storage)
    bearer = HTTPBearer(auto_error=False, description="the token `sygesikring-server add-desk` printed")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 413:
            return JSONResponse(too_large(max_body), status_code=413)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [x if isinstance(x, int) else str(x) for x in e.get("loc", ())],
                   "msg": mask_text(str(e.get("msg", ""))), "type": str(e.get("type", ""))} for e in exc.errors()]
        return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=422)

    def desk_dep(request: Request, _scheme: Any = Security(bearer)) -> Desk:
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

    named_header = Header(None, alias="X-Caseworker", min_length=1, max_length=64, pattern=LINE,
                          description="who at the desk asks, as the desk names it (audit log; a signed-in "
                                      "session, X-Caseworker-Session, is preferred)")
    session_header = Header(None, alias="X-Caseworker-Session", max_length=256,
                            description="the session token of the caseworker signed in on the desk "
                                        "(one that is not live is as if absent)")

    def caseworker_dep(request: Request, named: str | None = named_header,
                       session: str | None = session_header) -> str | None:
        """Who at the desk asks, for the audit log: the signed-in caseworker's initials when
        the session is live, else the name the desk gives (None: nobody said)."""
        if session:
            desk = desk_dep(request)
            found = storage.session_for(desk, session)
            if found is not None:
                return found.caseworker.initials
        return named

    caseworker_header = Depends(caseworker_dep)

    @app.get("/health", response_model=HealthOut, responses=_answers(413, 500))
    def health() -> dict[str, Any]:
        return {"status": "ok", "head": storage.head(), "db": storage.engine.dialect.name, "notify": "long-poll"}

    @app.get("/v1/whoami", response_model=WhoamiOut, responses=_answers(401, 413, 500))
    def whoami(desk: Desk = Depends(desk_dep)) -> dict[str, Any]:
        return {"id": desk.id, "name": desk.name, "municipality": desk.municipality, "role": desk.role}

    @app.post("/v1/sign-in", response_model=SignInOut, responses=_answers(400, 401, 403, 413, 422, 500))
    def sign_in(body: SignInIn, desk: Desk = Depends(desk_only)) -> dict[str, Any]:
        """A caseworker of the desk's municipality signs in with initials and personal secret."""
        try:
            sess, token = storage.sign_in(desk, body.initials, body.secret)
        except SignInRefused:
            raise HTTPException(403, "wrong initials or secret") from None
        return {**public(sess.caseworker), "session": token, "expires": sess.expires}

    @app.post("/v1/sign-out", response_model=SignOutOut, responses=_answers(401, 403, 413, 422, 500))
    def sign_out(desk: Desk = Depends(desk_only), session: str | None = session_header) -> dict[str, Any]:
        return {"ended": bool(session) and storage.sign_out(desk, session or "")}

    @app.get("/v1/caseworkers", response_model=CaseworkersOut, responses=_answers(401, 403, 413, 500))
    def caseworker_list(desk: Desk = Depends(desk_only)) -> dict[str, Any]:
        """The desk's municipality's caseworkers (not revoked): who a task can be given to."""
        return {"caseworkers": [public(c) for c in storage.list_caseworkers(desk.municipality, live_only=True)]}

    @app.post("/v1/push", response_model=PushOut, responses=_answers(400, 401, 403, 409, 413, 422, 500))
    def push(body: PushIn, desk: Desk = Depends(desk_only),
             caseworker: str | None = caseworker_header) -> Response:
        if body.training:
            raise HTTPException(403, "training stores never push")
        try:
            ops = [{"op_id": o.op_id, "kind": o.kind, "cpr": o.cpr, "payload": o.payload,
                    "base_version": o.base_version, "case_id": o.case_id} for o in body.ops]
            results, head = storage.push_batch(desk, ops, caseworker)  # (model_dump deep-copies every payload)
        except OpIdInUse:
            raise HTTPException(409, "op_id in use") from None
        except BodyMismatch as exc:
            return JSONResponse({"detail": str(exc), "errors": [
                {"loc": ["body", "ops"], "msg": str(exc), "type": "op_id_reused"}]}, status_code=422)
        # The answers are plain JSON already: encoded once, not re-validated against PushOut.
        return Response(dumps({"results": results, "head": head}), media_type="application/json")

    @app.get("/v1/changes", responses={200: {"description": CHANGES_DOC, "model": ChangesOut},
                                       **_answers(401, 403, 413, 422, 500)})
    async def changes(cursor: int = Query(0, ge=0, le=MAX_CURSOR), limit: int = Query(1000, ge=1, le=MAX_PAGE),
                      wait: float = Query(0, ge=0, le=notify.MAX_WAIT, description=notify.WAIT_DOC),
                      desk: Desk = Depends(desk_only), caseworker: str | None = caseworker_header) -> Response:
        audited = SimpleNamespace(pull=lambda d, c, n: storage.pull(d, c, n, caseworker))  # who, in the audit
        page, nxt, more = await notifier.pull(audited, desk, cursor, limit, wait)
        return Response(render_changes(page, nxt, more), media_type="application/json")

    @app.get("/v1/persons/{cpr}", response_model=dict[str, Any], responses=_answers(401, 403, 404, 413, 422, 500))
    def person(cpr: str = Path(pattern=CPR), desk: Desk = Depends(desk_only),
               caseworker: str | None = caseworker_header) -> dict[str, Any]:
        from ..domain.model import to_json

        try:
            return to_json(storage.person(desk, cpr, caseworker=caseworker))
        except NotFound:
            raise HTTPException(404, "no such person") from None

    @app.post("/v1/cpr-events", response_model=EventsOut, responses=_answers(400, 401, 403, 413, 422, 500))
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

    @app.exception_handler(Exception)
    async def _failed(_request: Request, _exc: Exception) -> JSONResponse:
        # The body of the 500 (Starlette re-raises: Guard logs the traceback, masked).
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    return app


class _GuardedApp(FastAPI):
    """FastAPI with :class:`Guard` outside its whole middleware stack."""

    def build_middleware_stack(self) -> Any:
        return Guard(super().build_middleware_stack(), self.state.max_body)


def make_suggest(storage: Storage, cat: Any) -> Any:
    """The workaround the catalogue suggests for a new task (None when it has none)."""
    provs = storage.providers()

    def suggest(code: str, state: Any, today: Any) -> str | None:
        try:
            return cpr_event_tasks.suggested_workaround(cat.suggestion_rules, code, state, today, provs.get,
                                                        cat.retired())
        except Exception:  # a suggestion is a hint: never lose the event over it
            log.exception("suggestion failed for event %s", code)
            return None

    return suggest


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory sygesikring_tui.server.app:app_from_env`` (each worker process
    of ``sygesikring-server serve`` builds its app here): ``$SYGESIKRING_SERVER_DB``,
    ``$SYGESIKRING_SERVER_MAX_BODY`` and ``$SYGESIKRING_SERVER_LOG`` (the log file)."""
    import os
    from pathlib import Path

    from .. import logs
    from .cli import default_db

    log_file = os.environ.get("SYGESIKRING_SERVER_LOG")
    if log_file and not any(getattr(h, "baseFilename", None) == str(Path(log_file).resolve())
                            for h in logging.getLogger().handlers):
        logs.setup(path=Path(log_file))  # a worker process: the file the serving command chose

    return create_app(Storage(os.environ.get("SYGESIKRING_SERVER_DB") or default_db()),
                      int(os.environ.get("SYGESIKRING_SERVER_MAX_BODY") or MAX_BODY))

