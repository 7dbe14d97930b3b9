"""Annotations over REST, on SQLite and PostgreSQL: create, reply, status, list by file
and status a page at a time, the desktop's rules for bad input, and the desktop's very
format on ``refs/gitwrite/annotations`` in both directions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from dulwich.objects import ObjectID

from gitwrite.annotation_store import Annotation
from gitwrite.model import Author
from gitwrite.packs import build_push_pack
from gitwrite.project import Project
from gitwrite_sync.storage import RefChange
from tests.integration.rest.conftest import Team
from tests.integration.rest.helpers import export

NOBODY = "00000000-0000-0000-0000-000000000000"
TEXT = "It was a dark and stormy night.\nThe rain fell in torrents.\n"


def annotate(team: Team, repo: str, who: str = "beta", **fields: Any) -> Any:
    body = {"path": "ch.md", "start": 9, "end": 13, "kind": "comment", "body": "Why dark?"}
    return team.call(who, "POST", f"/repositories/{repo}/annotations", json={**body, **fields})


def test_threads_replies_and_statuses(team: Team) -> None:
    repo = team.project({"ch.md": TEXT, "two.md": "Another file.\n"})
    first = annotate(team, repo)
    assert first.status_code == 201, first.text
    made = first.json()
    assert (made["quote"], made["range"], made["status"]) == (
        "dark",
        {"start": 9, "end": 13, "start_line": 1, "end_line": 1},
        "open",
    )
    assert made["author"]["email"] == team.people["beta"].email
    assert made["save"] == team.head(repo) and made["type"] == "annotation"
    url = f"/repositories/{repo}/annotations"
    reply = team.call("writer", "POST", f"{url}/{made['id']}/replies", json={"body": "Mood."})
    nested = team.call(
        "owner", "POST", f"{url}/{reply.json()['id']}/replies", json={"body": "Agreed."}
    )
    assert nested.json()["parent"] == made["id"]  # a reply to a reply joins the thread
    suggestion = annotate(
        team, repo, who="editor", start=32, end=36, kind="suggestion", body="", suggestion="A"
    ).json()
    assert suggestion["range"]["start_line"] == 2 and suggestion["body"] == ""
    on_two = annotate(team, repo, path="two.md", start=0, end=7, kind="question").json()

    status = team.call("beta", "PUT", f"{url}/{made['id']}/status", json={"status": "resolved"})
    assert status.status_code == 200 and status.json()["status"] == "resolved"
    before = team.state(repo)
    same = team.call("owner", "PUT", f"{url}/{made['id']}/status", json={"status": "resolved"})
    assert same.json()["status"] == "resolved" and team.state(repo) == before  # nothing written
    reopened = team.call("owner", "PUT", f"{url}/{made['id']}/status", json={"status": "open"})
    assert reopened.json()["status"] == "open"
    team.call("owner", "PUT", f"{url}/{suggestion['id']}/status", json={"status": "rejected"})

    listed = team.get("writer", url).json()
    assert listed["total"] == 3 and listed["next"] is None
    assert [t["annotation"]["id"] for t in listed["items"]] == [
        made["id"],
        suggestion["id"],
        on_two["id"],
    ]
    thread = listed["items"][0]
    assert [r["body"] for r in thread["replies"]] == ["Mood.", "Agreed."]
    assert {r["status"] for r in thread["replies"]} == {"open"}
    by_reply = team.get("writer", f"{url}/{reply.json()['id']}").json()
    assert by_reply == thread
    only_two = team.get("writer", url, params={"path": "two.md"}).json()["items"]
    assert [t["annotation"]["id"] for t in only_two] == [on_two["id"]]
    rejected = team.get("writer", url, params={"status": "rejected"}).json()["items"]
    assert [t["annotation"]["id"] for t in rejected] == [suggestion["id"]]
    page = team.get("writer", url, params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["total"] == 3
    rest = team.get("writer", page["next"]).json()
    assert [t["annotation"]["id"] for t in rest["items"]] == [on_two["id"]]
    assert rest["page"] == 2 and rest["next"] is None


def test_bad_annotations_are_refused_and_change_nothing(team: Team) -> None:
    repo = team.project({"ch.md": TEXT})
    team.call("owner", "PUT", f"/repositories/{repo}/files/pic.png", content=b"\x89PNG\x00")
    made = annotate(team, repo).json()
    url = f"/repositories/{repo}/annotations"
    reply = team.call("owner", "POST", f"{url}/{made['id']}/replies", json={"body": "x"}).json()
    before = team.state(repo)
    cases: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("POST", url, {"end": 999}, 422, "invalid"),
        ("POST", url, {"start": 5, "end": 5}, 422, "invalid"),
        ("POST", url, {"start": -1}, 400, "malformed"),
        ("POST", url, {"kind": "praise"}, 400, "malformed"),
        ("POST", url, {"body": "   "}, 422, "invalid"),
        ("POST", url, {"kind": "suggestion", "body": ""}, 422, "invalid"),
        ("POST", url, {"kind": "suggestion", "suggestion": "dark"}, 422, "invalid"),
        ("POST", url, {"suggestion": "light"}, 422, "invalid"),
        ("POST", url, {"path": "../ch.md"}, 422, "invalid"),
        ("POST", url, {"path": "none.md"}, 404, "not_found"),
        ("POST", url, {"path": "pic.png", "start": 0, "end": 2}, 422, "invalid"),
        ("POST", url, {"at": "no such save"}, 404, "not_found"),
        (
            "POST",
            f"{url}/{'0' * 8}-0000-0000-0000-{'0' * 12}/replies",
            {"body": "x"},
            404,
            "not_found",
        ),
        ("POST", f"{url}/{made['id']}/replies", {"body": ""}, 422, "invalid"),
        ("PUT", f"{url}/{reply['id']}/status", {"status": "resolved"}, 422, "invalid"),
        ("PUT", f"{url}/{made['id']}/status", {"status": "done"}, 400, "malformed"),
    ]
    base = {"path": "ch.md", "start": 9, "end": 13, "kind": "comment", "body": "Why?"}
    for method, path, body, status, code in cases:
        data = {**base, **body} if path == url else body
        got = team.call("beta", method, path, json=data)
        assert (got.status_code, got.json()["code"]) == (status, code), (method, path, body)
    assert team.state(repo) == before


def test_the_desktop_and_the_server_read_each_others_annotations(
    team: Team, tmp_path: Path
) -> None:
    repo = team.project({"ch.md": TEXT})
    made = annotate(team, repo).json()
    team.call(
        "owner", "PUT", f"/repositories/{repo}/annotations/{made['id']}/status",
        json={"status": "accepted"},
    )  # fmt: skip
    export(team, repo, tmp_path / "desk")
    desk = Project.open(tmp_path / "desk")
    [thread] = desk.annotations.list()
    assert msgspec.to_builtins(thread.annotation) == {**made, "status": "accepted"}

    desk.set_author(Author("Desk Writer", "desk@example.com"))
    old = desk.repo.refs[b"refs/gitwrite/annotations"]
    start = TEXT.index("torrents")
    theirs = desk.annotations.create("ch.md", start, start + 8, kind="correction", body="Sic?")
    desk.annotations.reply(made["id"], "From the desk.")
    new = desk.repo.refs[b"refs/gitwrite/annotations"]
    pack = build_push_pack(desk.repo, [new], [ObjectID(old)])

    async def push() -> str:
        writer = await team.services.users.by_email(team.people["writer"].email)
        change = RefChange("refs/gitwrite/annotations", old.decode(), new.decode())
        return (await team.services.sync.push(writer, repo, [change], pack)).status

    assert team.run(push) == "ok"
    listed = team.get("owner", f"/repositories/{repo}/annotations").json()["items"]
    assert [t["annotation"]["id"] for t in listed] == [made["id"], theirs.id]
    assert msgspec.convert(listed[1]["annotation"], Annotation) == theirs
    assert [r["body"] for r in listed[0]["replies"]] == ["From the desk."]
