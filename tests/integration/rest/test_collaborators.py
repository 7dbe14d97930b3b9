"""Collaborators and deleting a repository over REST, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from dulwich.objects import Commit, Tree

from gitwrite.model import Author
from gitwrite.protocol import ZERO_ID
from gitwrite_sync.domain.content import make_commit, whole_pack
from gitwrite_sync.errors import MissingObjects
from gitwrite_sync.storage import RefChange
from tests.integration.rest.conftest import Team


def test_roles_change_and_take_effect(team: Team) -> None:
    repo = team.project({"ch.md": "Once.\n"})
    url = f"/repositories/{repo}/collaborators"
    writer = team.people["writer"]
    refused = team.call(
        "writer", "POST", f"/repositories/{repo}/save", json={"file_path": "a", "content": "b"}
    )
    assert refused.status_code == 403
    got = team.call("owner", "PATCH", f"{url}/{writer.id}", json={"role": "editor"})
    assert got.status_code == 200 and got.json()["role"] == "editor"
    assert got.json()["user"]["email"] == writer.email
    team.save(repo, "a.md", "Now I may.\n", who="writer")
    roles = {c["user"]["email"]: c["role"] for c in team.get("beta", url).json()}
    assert roles[writer.email] == "editor"
    owner = team.people["owner"]
    cases = [
        (f"{url}/{owner.id}", {"role": "editor"}, 409, "conflict"),  # the last owner
        (f"{url}/{team.people['outsider'].id}", {"role": "editor"}, 404, "not_found"),
        (f"{url}/999999", {"role": "editor"}, 404, "not_found"),
        (f"{url}/{writer.id}", {"role": "admin"}, 400, "malformed"),
    ]
    for path, body, status, code in cases:
        got = team.call("owner", "PATCH", path, json=body)
        assert (got.status_code, got.json()["code"]) == (status, code), path
    promoted = team.call("owner", "PATCH", f"{url}/{writer.id}", json={"role": "owner"})
    assert promoted.json()["role"] == "owner"
    stepped_down = team.call("owner", "PATCH", f"{url}/{owner.id}", json={"role": "editor"})
    assert stepped_down.status_code == 200  # another owner remains
    invite = team.call(
        "writer", "POST", url, json={"email": "nobody@example.com", "role": "writer"}
    )
    assert invite.status_code == 404


def test_deleting_a_repository_removes_it_for_everyone(team: Team) -> None:
    repo = team.project({"ch.md": "Once upon a time.\n"})
    tree = team.get("owner", f"/repositories/{repo}/tree").json()
    assert team.call("editor", "DELETE", f"/repositories/{repo}").status_code == 403
    assert team.call("owner", "DELETE", f"/repositories/{repo}").status_code == 204
    for who in ("owner", "editor", "beta"):
        assert team.get(who, f"/repositories/{repo}").status_code == 404
    assert repo not in {r["name"] for r in team.get("owner", "/repositories").json()}

    # The name is free again, and the new project holds nothing of the old one, even
    # where the database gives it the old one's id.
    made = team.call("owner", "POST", "/repositories", json={"name": repo})
    assert made.status_code == 201 and made.json()["seq"] == 0
    assert team.get("owner", f"/repositories/{repo}/blobs/{tree[0]['id']}").status_code == 404

    async def push_onto_old_objects() -> None:
        owner = await team.services.users.by_email(team.people["owner"].email)
        commit: Commit = make_commit(
            _tree_of(tree[0]["id"]), [], Author("A", "a@example.com"), "Reuse\n"
        )
        change = RefChange("refs/heads/main", ZERO_ID, commit.id.decode())
        await team.services.sync.push(owner, repo, [change], whole_pack([commit]))

    with pytest.raises(MissingObjects):
        team.run(push_onto_old_objects)
    assert team.state(repo) == (0, {})


def _tree_of(blob_id: str) -> str:
    """The id of the tree holding only ``ch.md`` with that content (the old project's)."""
    tree = Tree()
    tree.add(b"ch.md", 0o100644, blob_id.encode())
    return str(tree.id.decode())
