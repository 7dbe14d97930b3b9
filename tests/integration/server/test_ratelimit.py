"""Login attempts are limited per account and per address, atomically across instances."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from gitwrite_sync.db.engine import Database
from gitwrite_sync.domain.auth import ratelimit
from gitwrite_sync.settings import Settings
from tests.integration.server.conftest import PASSWORD, Api, client_for

pytestmark = pytest.mark.anyio


def login(api: Api, email: str, password: str = PASSWORD) -> int:
    return api.client.post("/auth/login", json={"email": email, "password": password}).status_code


def test_too_many_attempts_on_one_account(settings: Settings) -> None:
    with client_for(replace(settings, login_attempts_per_account=3)) as client:
        api = Api(client)
        ada, bob = api.account("ada"), api.account("bob")  # each logged in once: refunded
        assert [login(api, ada.email, "wrong") for _ in range(3)] == [401, 401, 401]
        blocked = api.client.post("/auth/login", json={"email": ada.email, "password": PASSWORD})
        assert blocked.status_code == 429
        assert blocked.json()["code"] == "rate_limited"
        retry_after = int(blocked.headers["retry-after"])
        assert 1 <= retry_after <= settings.login_window_seconds
        assert blocked.json()["details"]["retry_after"] == retry_after
        assert login(api, bob.email) == 200  # another account is not affected


def test_too_many_attempts_from_one_address(settings: Settings) -> None:
    with client_for(replace(settings, login_attempts_per_address=4)) as client:
        api = Api(client)
        ada = api.account("ada")
        codes = [login(api, f"guess{i}@example.com", "x") for i in range(4)]
        assert codes == [401] * 4
        assert login(api, "guess9@example.com", "x") == 429
        assert login(api, ada.email) == 429  # the address is blocked, whatever the account


def test_successful_logins_do_not_use_up_the_limit(settings: Settings) -> None:
    with client_for(replace(settings, login_attempts_per_account=2)) as client:
        api = Api(client)
        ada = api.account("ada")
        assert [login(api, ada.email) for _ in range(6)] == [200] * 6


async def test_the_counter_is_atomic_across_instances(database_url: str) -> None:
    # Two "server instances" (separate pools) count the same key at the same moment: every
    # hit sees a distinct count, so no guess slips past the limit between read and write.
    instances = [Database(database_url), Database(database_url)]

    async def hit(db: Database) -> int:
        async with db.write() as session:
            spent = await ratelimit.hit(session, "login:account:x", window_seconds=60, now=6000)
            return spent.count

    try:
        counts = await asyncio.gather(*(hit(instances[i % 2]) for i in range(40)))
    finally:
        for db in instances:
            await db.dispose()
    assert sorted(counts) == list(range(1, 41))


async def test_a_new_window_starts_from_one(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.write() as session:
            first = [
                (await ratelimit.hit(session, "k", window_seconds=60, now=t)).count
                for t in (6000, 6030, 6059)
            ]
            later = await ratelimit.hit(session, "k", window_seconds=60, now=6060)
            await ratelimit.refund(session, later)
            again = await ratelimit.hit(session, "k", window_seconds=60, now=6061)
    finally:
        await db.dispose()
    assert first == [1, 2, 3]
    assert (later.count, later.window_start, later.retry_after) == (1, 6060, 60)
    assert again.count == 1  # the refund gave the hit back
