"""A small client for the server's REST API: sign in, repositories, collaborators.

What the sync client needs around its WebSocket (a token, a repository to sync, people to
share it with), for the desktop's sign-in and for tests and benchmarks::

    async with ServerApi("http://127.0.0.1:8765") as api:
        tokens = await api.login("ann@example.com", "secret")
        await api.create_repository(tokens.access_token, "novel")
        await api.add_collaborator(tokens.access_token, "novel", "bob@example.com", "editor")
        client = await SyncClient.connect(api.ws_url, tokens.access_token)

Every error response (JSON ``{"code", "message", "details"}``) is raised as `RestError`;
a server that cannot be reached as `RestError` with code ``unreachable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from gitwrite.errors import GitWriteError

__all__ = ["RestError", "ServerApi", "Tokens"]


class RestError(GitWriteError):
    """The server refused a request (``status``, ``code``, ``message``, ``details``)."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


def _loopback(url: str) -> bool:
    return httpx.URL(url).host in {"127.0.0.1", "localhost", "::1"}


class ServerApi:
    """REST calls to one server. ``transport`` lets tests serve an app in-process."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            trust_env=not _loopback(self.base_url),  # no proxy between us and localhost
        )

    @property
    def ws_url(self) -> str:
        """The WebSocket endpoint of the same server."""
        scheme, rest = self.base_url.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ServerApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(
        self, method: str, path: str, *, token: str | None = None, json: object = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self._http.request(method, path, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise RestError(0, "unreachable", f"{method} {path}: {exc}") from exc
        if response.is_success:
            return response.json() if response.content else None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        raise RestError(
            response.status_code,
            str(body.get("code", "http_error")),
            str(body.get("message", response.reason_phrase)),
            body.get("details") if isinstance(body.get("details"), dict) else None,
        )

    # -- accounts -------------------------------------------------------------------

    async def health(self) -> bool:
        """Whether the server answers ``GET /health``."""
        try:
            await self._call("GET", "/health")
        except RestError:
            return False
        return True

    async def register(self, email: str, password: str, display_name: str = "") -> Any:
        return await self._call(
            "POST",
            "/auth/register",
            json={"email": email, "password": password, "display_name": display_name},
        )

    async def login(self, email: str, password: str) -> Tokens:
        body = await self._call("POST", "/auth/login", json={"email": email, "password": password})
        return Tokens(body["access_token"], body["refresh_token"], int(body["expires_in"]))

    async def refresh(self, refresh_token: str) -> Tokens:
        body = await self._call("POST", "/auth/refresh", json={"refresh_token": refresh_token})
        return Tokens(body["access_token"], body["refresh_token"], int(body["expires_in"]))

    async def me(self, token: str) -> Any:
        """``GET /auth/me``: the signed-in account (id, email, display name...)."""
        return await self._call("GET", "/auth/me", token=token)

    async def logout(self, tokens: Tokens) -> None:
        """Revoke the access token and its refresh token."""
        await self._call(
            "POST",
            "/auth/logout",
            token=tokens.access_token,
            json={"refresh_token": tokens.refresh_token},
        )

    # -- repositories ---------------------------------------------------------------

    async def create_repository(self, token: str, name: str, description: str = "") -> Any:
        return await self._call(
            "POST", "/repositories", token=token, json={"name": name, "description": description}
        )

    async def repository(self, token: str, name: str) -> Any:
        return await self._call("GET", f"/repositories/{name}", token=token)

    async def add_collaborator(self, token: str, repo: str, email: str, role: str) -> Any:
        return await self._call(
            "POST",
            f"/repositories/{repo}/collaborators",
            token=token,
            json={"email": email, "role": role},
        )
