"""``GET /repositories/{name}/search`` on SQLite and Postgres: the app with its in-process
worker, so a REST save is findable moments later; who may search; bad input."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from gitwrite_sync.settings import Settings
from tests.integration.server.conftest import Account, Api, client_for


@pytest.fixture
def live(settings: Settings) -> Iterator[Api]:
    """The app with its background worker running, as on the embedded default."""
    with client_for(replace(settings, embedded_worker=True)) as client:
        yield Api(client)


@pytest.fixture
def team(live: Api) -> dict[str, Account]:
    people = {n: live.account(n) for n in ("owner", "writer", "beta", "stranger")}
    live.repository(
        people["owner"],
        "novel",
        **{people["writer"].email: "writer", people["beta"].email: "beta_reader"},
    )
    return people


def save(api: Api, who: Account, path: str, content: str, **extra: str) -> None:
    body = {"file_path": path, "content": content, "message": f"Save {path}", **extra}
    done = api.client.post("/repositories/novel/save", json=body, headers=who.headers)
    assert done.status_code == 201, done.text


def search(api: Api, who: Account, q: str, **params: Any) -> Any:
    got = api.client.get(
        "/repositories/novel/search", params={"q": q, **params}, headers=who.headers
    )
    assert got.status_code == 200, got.text
    return got.json()


def wait_for(api: Api, who: Account, q: str, timeout: float = 5.0) -> tuple[Any, float]:
    started = time.monotonic()
    while True:
        body = search(api, who, q)
        if body["results"]:
            return body, time.monotonic() - started
        assert time.monotonic() - started < timeout, f"{q!r} not found after {timeout} s"
        time.sleep(0.01)


def test_a_save_is_findable_within_a_second(live: Api, team: dict[str, Account]) -> None:
    owner = team["owner"]
    save(live, owner, "chapter-01.md", "# One\n\nThe <b>narwhal</b> & the sea.\n")
    body, elapsed = wait_for(live, owner, "narwhal")
    assert elapsed < 1.0
    [hit] = body["results"]
    assert body["query"] == "narwhal"
    assert (hit["file"], hit["exploration"], hit["explorations"], hit["line"]) == (
        "chapter-01.md",
        "main",
        ["main"],
        1,
    )
    assert "narwhal" in hit["snippet"] and "\ue000" not in hit["snippet"]
    assert [hit["snippet"][s["start"] : s["end"]] for s in hit["highlights"]] == ["narwhal"]
    html = hit["snippet_html"]  # escaped (PostgreSQL's snippets also leave tags out)
    assert "<mark>narwhal</mark>" in html and "&amp; the sea" in html and "<b>" not in html
    assert hit["rank"] > 0


def test_explorations_and_later_saves(live: Api, team: dict[str, Account]) -> None:
    owner, writer = team["owner"], team["writer"]
    save(live, owner, "a.md", "The narwhal.\n")
    wait_for(live, owner, "narwhal")
    made = live.client.post(
        "/repositories/novel/explorations", json={"name": "darker"}, headers=writer.headers
    )
    assert made.status_code == 201, made.text
    branch = made.json()["branch"]
    save(live, writer, "b.md", "The kraken.\n", exploration=branch)
    body, _ = wait_for(live, writer, "kraken")
    assert [(r["file"], r["explorations"]) for r in body["results"]] == [("b.md", [branch])]
    body = search(live, writer, "narwhal")
    assert [(r["exploration"], r["explorations"]) for r in body["results"]] == [
        ("main", ["main", branch])
    ]
    save(live, owner, "a.md", "The whale.\n")
    wait_for(live, owner, "whale")
    body = search(live, owner, "narwhal")
    assert [(r["file"], r["explorations"]) for r in body["results"]] == [("a.md", [branch])]


def test_who_may_search(live: Api, team: dict[str, Account]) -> None:
    save(live, team["owner"], "a.md", "The narwhal.\n")
    wait_for(live, team["owner"], "narwhal")
    assert search(live, team["beta"], "narwhal")["results"][0]["file"] == "a.md"
    stranger = live.client.get(
        "/repositories/novel/search", params={"q": "narwhal"}, headers=team["stranger"].headers
    )
    assert stranger.status_code == 404 and stranger.json()["code"] == "not_found"
    anonymous = live.client.get("/repositories/novel/search", params={"q": "narwhal"})
    assert anonymous.status_code == 401


def test_bad_input(live: Api, team: dict[str, Account]) -> None:
    owner = team["owner"]
    for q in ['"', "-", "or", "NEAR(a b)", "a*", "\x00", "'; --", "(("]:
        assert search(live, owner, q)["results"] == []
    url = "/repositories/novel/search"
    for params in ({"q": "x" * 501}, {"q": "x", "limit": 0}, {"q": "x", "limit": 101}, {}):
        got = live.client.get(url, params=params, headers=owner.headers)
        assert got.status_code == 400, (params, got.text)
    too_many = " ".join(["w"] * 33)
    got = live.client.get(url, params={"q": too_many}, headers=owner.headers)
    assert got.status_code == 422 and got.json()["code"] == "invalid"
