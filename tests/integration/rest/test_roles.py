"""The role matrix of DESIGN §7 for every endpoint of the team REST API, on SQLite and
PostgreSQL: owner, editor, writer, beta reader, someone not on the project (404: its
existence is not leaked) and no token (401). A refused call changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.integration.rest.conftest import Team

OK_ALL = {"owner": 200, "editor": 200, "writer": 200, "beta": 200}


def only(status: int, *roles: str) -> dict[str, int]:
    return {r: (status if r in roles else 403) for r in ("owner", "editor", "writer", "beta")}


CONTRIBUTORS = ("owner", "editor", "writer")
EDITORS = ("owner", "editor")
NEXT = {"beta": "writer", "writer": "editor", "editor": "beta", "owner": "writer"}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expected: dict[str, int]
    body: dict[str, Any] | None = None
    raw: bytes | None = None
    writes: bool = True
    params: dict[str, str] = field(default_factory=dict)
    own_project: bool = False
    """Changes who is on the project: run on a project of its own."""


CASES: dict[str, Case] = {
    "overview": Case("GET", "", OK_ALL, writes=False),
    "history": Case("GET", "/history", OK_ALL, writes=False),
    "file": Case("GET", "/files/ch.md", OK_ALL, writes=False),
    "blob": Case("GET", "/blobs/{blob}", OK_ALL, writes=False),
    "tree": Case("GET", "/tree", OK_ALL, writes=False),
    "compare": Case("GET", "/compare", OK_ALL, writes=False, params={"from": "{first}"}),
    "explorations": Case("GET", "/explorations", OK_ALL, writes=False),
    "milestones": Case("GET", "/milestones", OK_ALL, writes=False),
    "annotations": Case("GET", "/annotations", OK_ALL, writes=False),
    "thread": Case("GET", "/annotations/{aid}", OK_ALL, writes=False),
    "collaborators": Case("GET", "/collaborators", OK_ALL, writes=False),
    "export": Case("GET", "/export", only(200, *CONTRIBUTORS), writes=False),
    "save_main": Case(
        "POST", "/save", only(201, *EDITORS), {"file_path": "{role}.md", "content": "By {role}."}
    ),
    "save_exploration": Case(
        "POST",
        "/save",
        only(201, *CONTRIBUTORS),
        {"file_path": "{role}.md", "content": "By {role}.", "exploration": "drafts"},
    ),
    "upload_main": Case("PUT", "/files/art/{role}.png", only(201, *EDITORS), raw=b"\x89PNG\0"),
    "upload_exploration": Case(
        "PUT",
        "/files/art/{role}.png",
        only(201, *CONTRIBUTORS),
        raw=b"\x89PNG\0",
        params={"exploration": "drafts"},
    ),
    "delete_file": Case("DELETE", "/files/doomed-{role}.md", only(200, *EDITORS)),
    "create_exploration": Case(
        "POST", "/explorations", only(201, *CONTRIBUTORS), {"name": "idea of {role}"}
    ),
    "delete_exploration": Case("DELETE", "/explorations/gone-{role}", only(204, *CONTRIBUTORS)),
    "merge": Case("POST", "/explorations/side/merge", only(200, *EDITORS), {}),
    "milestone": Case("POST", "/milestones", only(201, *EDITORS), {"name": "draft of {role}"}),
    "annotate": Case(
        "POST",
        "/annotations",
        {r: 201 for r in OK_ALL},
        {"path": "ch.md", "start": 0, "end": 5, "kind": "question", "body": "{role} asks"},
    ),
    "reply": Case("POST", "/annotations/{aid}/replies", {r: 201 for r in OK_ALL}, {"body": "ok"}),
    "status": Case("PUT", "/annotations/{aid}/status", OK_ALL, {"status": "{status}"}),
    "invite": Case(
        "POST",
        "/collaborators",
        only(201, "owner"),
        {"email": "{outsider}", "role": "writer"},
        own_project=True,
    ),
    "change_role": Case(
        "PATCH",
        "/collaborators/{target_id}",
        only(200, "owner"),
        {"role": "editor"},
        own_project=True,
    ),
    "remove": Case("DELETE", "/collaborators/{target_id}", only(204, "owner"), own_project=True),
    "delete_repository": Case("DELETE", "", only(204, "owner"), own_project=True),
}
STATUS = {"owner": "resolved", "editor": "open", "writer": "rejected", "beta": "accepted"}
TEXT = "Start of the chapter. The rain fell on the roof all night.\n"


def fill(value: Any, context: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**context)
    if isinstance(value, dict):
        return {k: fill(v, context) for k, v in value.items()}
    return value


def prepare(team: Team, full: bool = True) -> dict[str, str]:
    """A project with a chapter, explorations to save on, merge and delete, and an
    annotation; returns what the paths and bodies refer to."""
    repo = team.project({"ch.md": TEXT})
    first = team.head(repo)
    branches = ("drafts", "side", *(f"gone-{r}" for r in CONTRIBUTORS)) if full else ()
    for branch in branches:
        path = f"/repositories/{repo}/explorations"
        made = team.call("owner", "POST", path, json={"name": branch})
        assert made.status_code == 201, made.text
    if full:
        team.save(repo, "side.md", "A side plot.\n", exploration="side")
        for role in EDITORS:
            team.save(repo, f"doomed-{role}.md", "Soon gone.\n")
    blob = team.get("owner", f"/repositories/{repo}/tree").json()[0]["id"]
    aid = team.call(
        "owner", "POST", f"/repositories/{repo}/annotations",
        json={"path": "ch.md", "start": 6, "end": 8, "kind": "comment", "body": "note"},
    ).json()["id"]  # fmt: skip
    outsider = team.people["outsider"].email
    return {"repo": repo, "blob": blob, "aid": aid, "first": first, "outsider": outsider}


@pytest.fixture(scope="module")
def shared(team: Team) -> dict[str, str]:
    """One project for every case that does not change who is on it (each case's writes
    use names of their own)."""
    return prepare(team)


@pytest.mark.parametrize("endpoint", list(CASES))
def test_role_matrix(team: Team, shared: dict[str, str], endpoint: str) -> None:
    case = CASES[endpoint]
    base = prepare(team, full=False) if case.own_project else shared
    repo = base["repo"]
    expected = {None: 401, "outsider": 404, **case.expected}
    for who in (None, "outsider", "beta", "writer", "editor", "owner"):
        role = who or "nobody"
        context = {
            **base,
            "role": role,
            "status": STATUS.get(role, "open"),
            "target_id": str(team.people[NEXT.get(role, "writer")].id),
        }
        before = team.state(repo) if case.writes and who != "owner" else None
        got = team.call(
            who,
            case.method,
            f"/repositories/{repo}" + fill(case.path, context),
            json=fill(case.body, context) if case.body is not None else None,
            content=case.raw,
            params=fill(case.params, context),
        )
        assert got.status_code == expected[who], (endpoint, who, got.text)
        if got.status_code >= 400:
            body = got.json()
            assert set(body) == {"code", "message", "details"}
            assert (
                body["code"]
                == {401: "unauthenticated", 403: "forbidden", 404: "not_found"}[got.status_code]
            )
            if before is not None:
                assert team.state(repo) == before, (endpoint, who)
