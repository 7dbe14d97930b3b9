"""``/auth``: sign in, refresh, sign out, register, and who am I."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from gitwrite_sync.domain.auth.schemas import (
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
    TokenResponse,
    UserResponse,
)
from gitwrite_sync.domain.auth.service import TokenPair
from gitwrite_sync.web.deps import AuthenticatedDep, ServicesDep, UserDep, client_address


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse(pair.access_token, pair.refresh_token, pair.expires_in)


class AuthController(Controller):
    path = "/auth"
    tags = ("auth",)

    @post("/login", status_code=200, summary="Sign in with email and password")
    async def login(
        self, data: JSONBody[LoginRequest], request: Request[Any, Any, Any], services: ServicesDep
    ) -> TokenResponse:
        pair = await services.auth.login(data.email, data.password, client_address(request))
        return _tokens(pair)

    @post("/refresh", status_code=200, summary="Trade a refresh token for a new pair")
    async def refresh(self, data: JSONBody[RefreshRequest], services: ServicesDep) -> TokenResponse:
        return _tokens(await services.auth.refresh(data.refresh_token))

    @post("/logout", status_code=204, summary="Revoke this access token and refresh token")
    async def logout(
        self,
        authenticated: AuthenticatedDep,
        services: ServicesDep,
        data: JSONBody[LogoutRequest | None] = None,
    ) -> None:
        await services.auth.logout(authenticated.claims, data.refresh_token if data else None)

    @post("/register", status_code=201, summary="Create an account (when registration is open)")
    async def register(
        self, data: JSONBody[RegisterRequest], services: ServicesDep
    ) -> UserResponse:
        services.auth.check_registration_open()
        user = await services.users.create(data.email, data.password, data.display_name)
        return UserResponse.of(user)

    @get("/me", summary="The signed-in account")
    async def me(self, user: UserDep) -> UserResponse:
        return UserResponse.of(user)
