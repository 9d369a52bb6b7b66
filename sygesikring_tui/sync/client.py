"""The HTTP client of the sync API (httpx). No store, no retries: :mod:`.engine` decides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ..store.pulled import Page


class SyncError(Exception):
    """A sync request failed. ``kind``: offline, server, auth, training, protocol."""

    def __init__(self, kind: str, detail: str = "", status: int | None = None) -> None:
        self.kind = kind
        self.detail = detail
        self.status = status
        super().__init__(f"{kind}: {detail}" if detail else kind)

    @property
    def retryable(self) -> bool:
        return self.kind in ("offline", "server")


class SyncClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport,
                                  headers={"Authorization": f"Bearer {token}"})
        self.token = token
        self.session: str | None = None  # the signed-in caseworker's session token, sent on every call

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, url: str, **kw: Any) -> Any:
        r = self._request(method, url, **kw)
        try:
            return r.json()
        except ValueError as exc:
            raise SyncError("server", "answer is not JSON", r.status_code) from exc

    def _request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """The answer of a request that succeeded; every failure as a :class:`SyncError`."""
        try:
            if self.session:
                kw["headers"] = {**kw.get("headers", {}), "X-Caseworker-Session": self.session}
            r = self._http.request(method, url, **kw)
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            raise SyncError("offline", type(exc).__name__) from exc
        if r.status_code >= 500:
            raise SyncError("server", r.text[:200], r.status_code)
        if r.status_code == 401:
            raise SyncError("auth", _detail(r), r.status_code)
        if r.status_code == 403:
            d = _detail(r)
            raise SyncError("training" if "training" in d else "auth", d, r.status_code)
        if r.status_code >= 400:
            raise SyncError("protocol", _detail(r), r.status_code)
        return r

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def push(self, ops: list[dict[str, Any]], training: bool) -> list[dict[str, Any]]:
        return self._call("POST", "/v1/push", json={"training": training, "ops": ops})["results"]

    def pull(self, cursor: int, limit: int = 1000, wait: float | None = None) -> dict[str, Any]:
        """A page of changes after ``cursor``. ``wait`` (seconds, servers whose ``/health``
        says ``notify``): the server answers once there is a change for the desk, or when
        the time is up (an empty page)."""
        if not wait:
            return self._call("GET", "/v1/changes", params={"cursor": cursor, "limit": limit})
        return self._call("GET", "/v1/changes", params={"cursor": cursor, "limit": limit, "wait": wait},
                          timeout=self._http.timeout.read + wait if self._http.timeout.read else None)

    def changes(self, cursor: int, limit: int = 1000) -> Page:
        """A page of changes after ``cursor``, decoded and checked as it is read
        (store/pulled.py). A page that is not what the API promises is refused whole:
        ``SyncError("server")`` naming the fault."""
        from ..store.pulled import decode_page

        r = self._request("GET", "/v1/changes", params={"cursor": cursor, "limit": limit})
        try:
            return decode_page(r.content)
        except ValueError as exc:  # msgspec's DecodeError and ValidationError
            raise SyncError("server", f"not a page of changes: {exc}", r.status_code) from exc

    def sign_in(self, initials: str, secret: str) -> dict[str, Any]:
        """``{session, initials, name, team_lead, expires}``; a wrong secret is SyncError("auth")."""
        return self._call("POST", "/v1/sign-in", json={"initials": initials, "secret": secret})

    def sign_out(self, session: str) -> bool:
        return bool(self._call("POST", "/v1/sign-out", headers={"X-Caseworker-Session": session}).get("ended"))

    def caseworkers(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/caseworkers")["caseworkers"]

    def person(self, cpr: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/persons/{cpr}")


def _detail(r: httpx.Response) -> str:
    try:
        d = r.json().get("detail", "")
    except (ValueError, AttributeError):
        d = r.text
    return d if isinstance(d, str) else str(d)[:200]
