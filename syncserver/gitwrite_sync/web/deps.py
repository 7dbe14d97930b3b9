"""Dependencies handlers declare by name: ``services``, ``authenticated``, ``user``.

Declaring ``user: UserDep`` (or ``authenticated: AuthenticatedDep``) is what makes a
handler require a valid bearer access token; the check itself is
`gitwrite_sync.domain.auth.authenticate_token`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from gitwrite_sync.db.models import User
from gitwrite_sync.domain.auth import Authenticated, authenticate_token
from gitwrite_sync.services import Services, services_of

ServicesDep = NamedDependency[Services]
AuthenticatedDep = NamedDependency[Authenticated]
UserDep = NamedDependency[User]


def bearer_token(request: Request[Any, Any, Any]) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or "" when absent."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def client_address(request: Request[Any, Any, Any]) -> str:
    """The caller's address (uvicorn puts the proxy's X-Forwarded-For here when trusted)."""
    return request.client.host if request.client else "unknown"


def provide_services(state: State) -> Services:
    return services_of(state)


async def provide_authenticated(
    request: Request[Any, Any, Any], services: ServicesDep
) -> Authenticated:
    return await authenticate_token(services.db, services.settings, bearer_token(request))


async def provide_user(authenticated: AuthenticatedDep) -> User:
    return authenticated.user


DEPENDENCIES = {
    "services": Provide(provide_services, sync_to_thread=False),
    "authenticated": Provide(provide_authenticated),
    "user": Provide(provide_user),
}
