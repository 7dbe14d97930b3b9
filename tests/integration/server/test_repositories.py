"""Repositories and collaborators over REST, on SQLite and Postgres, role by role."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gitwrite_sync.settings import Settings
from tests.integration.server.conftest import Account, Api, client_for


@pytest.fixture
def team(api: Api) -> dict[str, Account]:
    """An owner with "novel" shared with an editor, a writer and a beta reader; a stranger."""
    people = {n: api.account(n) for n in ("owner", "editor", "writer", "beta", "stranger")}
    api.repository(
        people["owner"],
        "novel",
        **{
            people["editor"].email: "editor",
            people["writer"].email: "writer",
            people["beta"].email: "beta_reader",
        },
    )
    return people


def test_create_get_and_list(api: Api) -> None:
    ada = api.account("ada")
    made = api.client.post(
        "/repositories", json={"name": "Pride_and-Prejudice.v2", "description": "Austen"},
        headers=ada.headers,
    )  # fmt: skip
    assert made.status_code == 201
    body = made.json()
    assert body["name"] == "Pride_and-Prejudice.v2" and body["role"] == "owner"
    assert body["owner"]["email"] == ada.email and body["default_branch"] == "main"
    assert body["seq"] == 0
    got = api.client.get("/repositories/Pride_and-Prejudice.v2", headers=ada.headers).json()
    assert {k: v for k, v in got.items() if k in body} == body
    assert (got["at"], got["files"], got["latest_saves"], got["explorations"]) == (None, [], [], [])
    listed = api.client.get("/repositories", headers=ada.headers).json()
    assert [r["name"] for r in listed] == ["Pride_and-Prejudice.v2"]


def test_list_is_mine_and_shared_newest_first(api: Api) -> None:
    ada, bob, cy = api.account("ada"), api.account("bob"), api.account("cy")
    api.repository(ada, "first")
    api.repository(bob, "bobs", **{ada.email: "writer"})
    api.repository(ada, "third")
    api.repository(cy, "private")
    listed = api.client.get("/repositories", headers=ada.headers).json()
    assert [(r["name"], r["role"]) for r in listed] == [
        ("third", "owner"),
        ("bobs", "writer"),
        ("first", "owner"),
    ]
    assert api.client.get("/repositories", headers=cy.headers).json()[0]["name"] == "private"


BAD_NAMES = [".hidden", "", "x" * 101, "with space", "a/b", "..", "ünïcode", "tab\t", "a:b"]
GOOD_NAMES = ["a", "x" * 100, "a.b", "a..b", "Novel-2_final"]


def test_names_are_checked(api: Api) -> None:
    ada = api.account("ada")
    for name in BAD_NAMES:
        got = api.client.post("/repositories", json={"name": name}, headers=ada.headers)
        assert got.status_code == 422, (name, got.text)
        assert got.json()["code"] == "invalid" and got.json()["details"] == {"field": "name"}
    for name in GOOD_NAMES:
        got = api.client.post("/repositories", json={"name": name}, headers=ada.headers)
        assert got.status_code == 201, (name, got.text)
    listed = api.client.get("/repositories", headers=ada.headers).json()
    assert sorted(r["name"] for r in listed) == sorted(GOOD_NAMES)


def test_names_are_unique_whatever_the_case(api: Api) -> None:
    ada, bob = api.account("ada"), api.account("bob")
    api.repository(ada, "Novel")
    for who in (ada, bob):
        got = api.client.post("/repositories", json={"name": "novel"}, headers=who.headers)
        assert got.status_code == 409 and got.json()["code"] == "conflict"


def test_a_stranger_cannot_tell_private_from_missing(api: Api, team: dict[str, Account]) -> None:
    stranger = team["stranger"].headers
    private = api.client.get("/repositories/novel", headers=stranger)
    missing = api.client.get("/repositories/nothing", headers=stranger)
    assert private.status_code == missing.status_code == 404
    assert private.json()["message"] == "no repository named 'novel'"
    assert missing.json()["message"] == "no repository named 'nothing'"
    for path in ("/repositories/novel/collaborators",):
        assert api.client.get(path, headers=stranger).status_code == 404
    share = api.client.post(
        "/repositories/novel/collaborators",
        json={"email": team["stranger"].email, "role": "owner"},
        headers=stranger,
    )
    assert share.status_code == 404


# Who may do what on these endpoints: read for every collaborator, manage for owners.
ROLES = ["owner", "editor", "writer", "beta", "stranger"]


@pytest.mark.parametrize(
    ("role", "read", "manage"),
    [
        ("owner", 200, 201),
        ("editor", 200, 403),
        ("writer", 200, 403),
        ("beta", 200, 403),
        ("stranger", 404, 404),
    ],
)
def test_role_matrix_of_the_endpoints(
    api: Api, team: dict[str, Account], role: str, read: int, manage: int
) -> None:
    me = team[role].headers
    newcomer = api.account(f"new-{role}")
    assert api.client.get("/repositories/novel", headers=me).status_code == read
    assert api.client.get("/repositories/novel/collaborators", headers=me).status_code == read
    share = api.client.post(
        "/repositories/novel/collaborators",
        json={"email": newcomer.email, "role": "writer"},
        headers=me,
    )
    assert share.status_code == manage
    if manage == 403:
        assert share.json()["details"]["action"] == "manage"
    other = team["writer" if role == "beta" else "beta"].id  # someone else: leaving is free
    remove = api.client.delete(f"/repositories/novel/collaborators/{other}", headers=me)
    assert remove.status_code == {201: 204}.get(manage, manage)
    listed = [r["name"] for r in api.client.get("/repositories", headers=me).json()]
    assert listed == (["novel"] if read == 200 else [])


def test_sharing_adds_then_changes_a_role(api: Api, team: dict[str, Account]) -> None:
    owner, writer = team["owner"], team["writer"]
    changed = api.client.post(
        "/repositories/novel/collaborators",
        json={"email": writer.email.upper(), "role": "editor"},
        headers=owner.headers,
    )
    assert changed.status_code == 200 and changed.json()["role"] == "editor"
    people = api.client.get("/repositories/novel/collaborators", headers=writer.headers).json()
    assert [(p["user"]["email"], p["role"]) for p in people] == [
        (owner.email, "owner"),
        (team["editor"].email, "editor"),
        (writer.email, "editor"),
        (team["beta"].email, "beta_reader"),
    ]
    mine = api.client.get("/repositories/novel", headers=writer.headers).json()
    assert mine["role"] == "editor"


def test_sharing_checks_its_input(api: Api, team: dict[str, Account]) -> None:
    owner = team["owner"].headers
    path = "/repositories/novel/collaborators"
    nobody = api.client.post(
        path, json={"email": "who@example.com", "role": "writer"}, headers=owner
    )
    assert nobody.status_code == 404 and nobody.json()["details"]["email"] == "who@example.com"
    bad_role = api.client.post(
        path, json={"email": team["stranger"].email, "role": "admin"}, headers=owner
    )
    assert bad_role.status_code == 400 and bad_role.json()["code"] == "malformed"
    missing = api.client.post(path, json={"email": team["stranger"].email}, headers=owner)
    assert missing.status_code == 400
    unknown_repo = api.client.post(
        "/repositories/nothing/collaborators",
        json={"email": team["stranger"].email, "role": "writer"},
        headers=owner,
    )
    assert unknown_repo.status_code == 404


def test_anyone_may_leave_but_the_last_owner(api: Api, team: dict[str, Account]) -> None:
    writer, owner = team["writer"], team["owner"]
    left = api.client.delete(
        f"/repositories/novel/collaborators/{writer.id}", headers=writer.headers
    )
    assert left.status_code == 204
    assert api.client.get("/repositories/novel", headers=writer.headers).status_code == 404
    again = api.client.delete(
        f"/repositories/novel/collaborators/{writer.id}", headers=owner.headers
    )
    assert again.status_code == 404
    last = api.client.delete(f"/repositories/novel/collaborators/{owner.id}", headers=owner.headers)
    assert last.status_code == 409 and "owner" in last.json()["message"]
    demote = api.client.post(
        "/repositories/novel/collaborators",
        json={"email": owner.email, "role": "editor"},
        headers=owner.headers,
    )
    assert demote.status_code == 409
    # With a second owner, the first may go.
    api.client.post(
        "/repositories/novel/collaborators",
        json={"email": team["editor"].email, "role": "owner"},
        headers=owner.headers,
    )
    gone = api.client.delete(f"/repositories/novel/collaborators/{owner.id}", headers=owner.headers)
    assert gone.status_code == 204
    people = api.client.get(
        "/repositories/novel/collaborators", headers=team["editor"].headers
    ).json()
    assert [p["role"] for p in people if p["role"] == "owner"] == ["owner"]


def test_every_endpoint_needs_a_signed_in_user(api: Api, team: dict[str, Account]) -> None:
    for method, path in [
        ("GET", "/repositories"),
        ("POST", "/repositories"),
        ("GET", "/repositories/novel"),
        ("GET", "/repositories/novel/collaborators"),
        ("POST", "/repositories/novel/collaborators"),
        ("DELETE", f"/repositories/novel/collaborators/{team['writer'].id}"),
    ]:
        got = api.client.request(method, path, json={"name": "x"})
        assert got.status_code == 401, (method, path)
        assert got.json()["code"] == "unauthenticated"


BAD_BODIES = [
    b"{not json",
    b'{"name": ["a list"]}',
    b'{"name": "ok", "description": 5}',
    b"[]",
    b"\xff\xfe\x00",
    b"",
    b'"just a string"',
]


def test_bad_bodies_are_refused_and_change_nothing(api: Api) -> None:
    ada = api.account("ada")
    headers = {**ada.headers, "content-type": "application/json"}
    for content in BAD_BODIES:
        got = api.client.post("/repositories", content=content, headers=headers)
        assert got.status_code == 400, (content, got.text)
        assert got.json()["code"] == "malformed"
    assert api.client.get("/repositories", headers=ada.headers).json() == []


def test_bad_path_parameters(api: Api, team: dict[str, Account]) -> None:
    owner = team["owner"].headers
    got = api.client.delete("/repositories/novel/collaborators/not-a-number", headers=owner)
    assert got.status_code in (400, 404)
    assert set(got.json()) == {"code", "message", "details"}
    traversal = api.client.get("/repositories/..%2F..%2Fetc", headers=owner)
    assert traversal.status_code == 404


def test_oversized_bodies_are_refused(settings: Settings) -> None:
    with client_for(replace(settings, max_request_bytes=4096)) as client:
        api = Api(client)
        ada = api.account("ada")
        got = api.client.post(
            "/repositories",
            json={"name": "big", "description": "x" * 10_000},
            headers=ada.headers,
        )
        assert got.status_code == 413 and got.json()["code"] == "too_large"
        assert api.client.get("/repositories", headers=ada.headers).json() == []
