"""Sign-in over REST on SQLite and Postgres: tokens, rotation, revocation, registration."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import func, select, update

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import RateCounter, RefreshToken, RevokedAccessToken
from gitwrite_sync.domain.auth import TokenPair, authenticate
from gitwrite_sync.domain.auth.tokens import issue_access_token
from gitwrite_sync.errors import Unauthenticated
from gitwrite_sync.services import Services
from gitwrite_sync.settings import Settings
from gitwrite_sync.workers.jobs import default_registry
from gitwrite_sync.workers.queue import enqueue
from gitwrite_sync.workers.runner import Worker
from tests.integration.server.conftest import PASSWORD, Api, client_for

pytestmark = pytest.mark.anyio


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_register_login_and_me(api: Api, settings: Settings) -> None:
    made = api.client.post(
        "/auth/register",
        json={"email": " Ada@Example.COM ", "password": PASSWORD, "display_name": "Ada"},
    )
    assert made.status_code == 201
    assert made.json()["email"] == "ada@example.com"
    tokens = api.client.post("/auth/login", json={"email": "ADA@example.com", "password": PASSWORD})
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_minutes * 60
    claims = jwt.decode(body["access_token"], settings.secret_key, algorithms=["HS256"])
    assert claims["sub"] == str(made.json()["id"]) and claims["type"] == "access"
    assert claims["exp"] - claims["iat"] == settings.access_token_minutes * 60
    me = api.client.get("/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["display_name"] == "Ada"


def test_wrong_password_and_unknown_account_look_the_same(api: Api) -> None:
    api.account("ada")
    wrong = api.client.post("/auth/login", json={"email": "ada@example.com", "password": "nope!"})
    nobody = api.client.post("/auth/login", json={"email": "bob@example.com", "password": "x"})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json() == nobody.json()
    assert wrong.json()["code"] == "unauthenticated"
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_bad_access_tokens_are_refused(api: Api, settings: Settings) -> None:
    ada = api.account("ada")
    past = datetime.now(UTC) - timedelta(hours=1)
    expired, _ = issue_access_token(settings, ada.id, now=past)
    forged, _ = issue_access_token(replace(settings, secret_key="another-key" * 4), ada.id)
    cases = {
        "missing": {},
        "invalid": bearer("not.a.token"),
        "expired": bearer(expired),
    }
    for reason, headers in cases.items():
        got = api.client.get("/auth/me", headers=headers)
        assert got.status_code == 401, reason
        assert got.json()["details"]["reason"] == reason
    assert api.client.get("/auth/me", headers=bearer(forged)).status_code == 401
    assert api.client.get("/auth/me", headers=bearer(ada.refresh_token)).status_code == 401
    basic = {"Authorization": f"Basic {ada.access_token}"}
    assert api.client.get("/auth/me", headers=basic).status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_family(api: Api) -> None:
    ada = api.account("ada")
    first = api.client.post("/auth/refresh", json={"refresh_token": ada.refresh_token})
    assert first.status_code == 200
    pair = first.json()
    assert pair["refresh_token"] != ada.refresh_token
    assert api.client.get("/auth/me", headers=bearer(pair["access_token"])).status_code == 200
    # The old token again: someone copied it. Both copies' sessions end.
    reused = api.client.post("/auth/refresh", json={"refresh_token": ada.refresh_token})
    assert reused.status_code == 401 and reused.json()["details"]["reason"] == "reused"
    latest = api.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert latest.status_code == 401
    # Another sign-in (another family) is untouched.
    other = api.client.post("/auth/login", json={"email": ada.email, "password": PASSWORD})
    again = api.client.post("/auth/refresh", json={"refresh_token": other.json()["refresh_token"]})
    assert again.status_code == 200


def test_unknown_refresh_token(api: Api) -> None:
    got = api.client.post("/auth/refresh", json={"refresh_token": "made-up"})
    assert got.status_code == 401 and got.json()["details"]["reason"] == "invalid"


def test_logout_revokes_the_access_token_and_the_refresh_token(api: Api) -> None:
    ada = api.account("ada")
    out = api.client.post(
        "/auth/logout", json={"refresh_token": ada.refresh_token}, headers=ada.headers
    )
    assert out.status_code == 204
    me = api.client.get("/auth/me", headers=ada.headers)
    assert me.status_code == 401 and me.json()["details"]["reason"] == "revoked"
    refreshed = api.client.post("/auth/refresh", json={"refresh_token": ada.refresh_token})
    assert refreshed.status_code == 401


def test_logout_without_a_body_and_of_someone_elses_refresh_token(api: Api) -> None:
    ada, bob = api.account("ada"), api.account("bob")
    assert api.client.post("/auth/logout", headers=ada.headers).status_code == 204
    out = api.client.post(
        "/auth/logout", json={"refresh_token": ada.refresh_token}, headers=bob.headers
    )
    assert out.status_code == 204
    # Bob cannot end Ada's session with her refresh token.
    assert (
        api.client.post("/auth/refresh", json={"refresh_token": ada.refresh_token}).status_code
        == 200
    )
    assert api.client.post("/auth/logout").status_code == 401


async def test_disabled_accounts_are_refused_everywhere(api: Api, services: Services) -> None:
    ada = api.account("ada")
    await services.users.set_active(ada.email, False)
    assert api.client.get("/auth/me", headers=ada.headers).status_code == 401
    refreshed = api.client.post("/auth/refresh", json={"refresh_token": ada.refresh_token})
    assert refreshed.status_code == 401
    login = api.client.post("/auth/login", json={"email": ada.email, "password": PASSWORD})
    assert login.status_code == 401 and login.json()["details"]["reason"] == "disabled"
    await services.users.set_active(ada.email, True)
    login = api.client.post("/auth/login", json={"email": ada.email, "password": PASSWORD})
    assert login.status_code == 200
    # Disabling revoked the refresh tokens it had: re-enabling does not bring them back.
    refreshed = api.client.post("/auth/refresh", json={"refresh_token": ada.refresh_token})
    assert refreshed.status_code == 401


async def test_authenticate_is_the_check_everyone_uses(api: Api, services: Services) -> None:
    ada = api.account("ada")
    user = await authenticate(services.db, services.settings, ada.access_token)
    assert (user.id, user.email) == (ada.id, ada.email)
    with pytest.raises(Unauthenticated):
        await authenticate(services.db, services.settings, "")
    api.client.post("/auth/logout", headers=ada.headers)
    with pytest.raises(Unauthenticated, match="revoked"):
        await authenticate(services.db, services.settings, ada.access_token)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, 422, "email"),
        ({"email": "a@example.com", "password": "short"}, 422, "password"),
        ({"email": "a@example.com", "password": PASSWORD, "display_name": "x" * 201}, 400, None),
        ({"email": "a@example.com"}, 400, None),
        ({"email": 5, "password": PASSWORD}, 400, None),
    ],
)
def test_registration_checks_its_input(
    api: Api, body: dict[str, object], status: int, field: str | None
) -> None:
    got = api.client.post("/auth/register", json=body)
    assert got.status_code == status, got.text
    if field:
        assert got.json()["details"]["field"] == field


def test_registering_an_email_twice_is_a_conflict(api: Api) -> None:
    api.account("ada")
    again = api.client.post(
        "/auth/register", json={"email": "ADA@example.com", "password": PASSWORD}
    )
    assert again.status_code == 409 and again.json()["code"] == "conflict"


def test_registration_can_be_closed(settings: Settings) -> None:
    with client_for(replace(settings, registration_open=False)) as client:
        got = client.post("/auth/register", json={"email": "a@example.com", "password": PASSWORD})
    assert got.status_code == 403 and "closed" in got.json()["message"]


async def test_a_login_upgrades_a_hash_made_with_older_parameters(
    api: Api, services: Services, settings: Settings
) -> None:
    ada = api.account("ada")
    before = (await services.users.by_email(ada.email)).password_hash
    with client_for(replace(settings, argon2_time_cost=2)) as client:
        login = client.post("/auth/login", json={"email": ada.email, "password": PASSWORD})
        assert login.status_code == 200
    after = (await services.users.by_email(ada.email)).password_hash
    assert "t=1" in before and "t=2" in after


async def test_the_prune_job_drops_only_what_can_no_longer_matter(
    api: Api, services: Services
) -> None:
    ada, bob = api.account("ada"), api.account("bob")
    api.client.post("/auth/logout", headers=ada.headers)  # a live revocation
    api.client.post("/auth/login", json={"email": ada.email, "password": "wrong"})  # a counter
    past = datetime.now(UTC) - timedelta(days=1)
    async with services.db.write() as session:
        session.add(RevokedAccessToken(jti="old", expires_at=past))
        await session.execute(
            update(RefreshToken).where(RefreshToken.user_id == bob.id).values(expires_at=past)
        )
        session.add(RateCounter(key="login:address:old", window_start=0, count=9))
        await enqueue(session, "auth.prune")

    worker = Worker(services.db, services.settings, default_registry())
    assert await worker.run_once()

    async def count(model: type, *where: object) -> int:
        async with services.db.read() as session:
            query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
            return int((await session.execute(query)).scalar_one())

    assert await count(RevokedAccessToken) == 1  # "old" went, the live one stayed
    assert await count(RefreshToken, RefreshToken.user_id == bob.id) == 0
    assert await count(RefreshToken, RefreshToken.user_id == ada.id) == 1
    assert await count(RateCounter, RateCounter.key == "login:address:old") == 0
    assert await count(RateCounter) >= 1


async def test_two_refreshes_racing_with_one_token_leave_one_winner_then_sign_out(
    api: Api, settings: Settings
) -> None:
    # Two instances (separate pools) receive the same refresh token at the same moment:
    # the row lock (Postgres) or the write lock (SQLite) orders them; the second sees a
    # used token, so it is treated as copied and the family ends.
    ada = api.account("ada")
    instances = [Database(settings.database_url) for _ in range(2)]
    try:
        services = [Services.build(settings, db) for db in instances]
        outcomes = await asyncio.gather(
            *(s.auth.refresh(ada.refresh_token) for s in services), return_exceptions=True
        )
        winners = [o for o in outcomes if isinstance(o, TokenPair)]
        losers = [o for o in outcomes if isinstance(o, Unauthenticated)]
        assert len(winners) == 1 and len(losers) == 1
        assert losers[0].details["reason"] == "reused"
        with pytest.raises(Unauthenticated):
            await services[0].auth.refresh(winners[0].refresh_token)
    finally:
        for db in instances:
            await db.dispose()
