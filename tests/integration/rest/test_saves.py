"""Saves made by the server over REST, on SQLite and PostgreSQL: real commits (word
trailer, the account as author, sound for git fsck), stored as deltas, with an event and
an indexing job; explorations and folders; stale heads; uploads streamed under a limit;
and bad input that is refused with a clear error and changes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from gitwrite import prose
from gitwrite.trailers import split_word_trailer
from gitwrite_sync.domain.sync.service import INDEX_JOB
from gitwrite_sync.errors import StaleRef
from tests.corpus import chapters
from tests.integration.rest.conftest import Team
from tests.integration.rest.helpers import commit, export, jobs, object_rows

KiB = 1024
SETTINGS = {"max_upload_bytes": 256 * KiB, "max_request_bytes": 96 * KiB}
CHAPTER = chapters()[2][1]


def test_a_save_is_a_commit_made_as_a_desktop_makes_it(team: Team, tmp_path: Path) -> None:
    repo = team.project()
    first = team.save(repo, "chapter-03.md", CHAPTER, message="Chapter three")
    assert (first["saved"], first["parents"], first["seq"]) == (True, [], 1)
    assert first["words_added"] == prose.count_words(CHAPTER) and first["words_removed"] == 0
    edited = CHAPTER.replace("\n\n", "\n\nIt rained all that week.\n\n", 1)
    second = team.save(repo, "chapter-03.md", edited, who="editor")
    stats = prose.word_stats(CHAPTER, edited)
    assert (second["words_added"], second["words_removed"]) == (stats.added, stats.removed)
    assert second["message"] == f"chapter-03.md: +{stats.added} words"
    assert second["parents"] == [first["id"]] and second["seq"] == 2
    assert team.head(repo) == second["id"]

    local = export(team, repo, tmp_path / "export")  # git fsck --strict inside
    made = commit(local, second["id"])
    body, words = split_word_trailer(made.message.decode())
    assert (body, words) == (second["message"], (stats.added, stats.removed))
    editor = team.people["editor"]
    assert made.author == made.committer
    assert made.author.decode().endswith(f"<{editor.email}>")
    blob = local[made.tree][b"chapter-03.md"][1]
    assert (
        local[blob].data.decode()
        == edited
        == team.get("owner", f"/repositories/{repo}/files/chapter-03.md").text
    )

    rows = object_rows(team, repo)
    assert rows[second["file_id"]].base_sha is not None  # a delta, as for pushes
    assert rows[first["file_id"]].base_sha is None
    queued = [json.loads(j.payload) for j in jobs(team, INDEX_JOB)]
    mine = [p for p in queued if p["repository"] == repo]
    assert [p["last_seq"] for p in mine] == [1, 2]
    assert mine[-1]["refs"] == {"refs/heads/main": second["id"]}


def test_saves_on_explorations_and_in_folders(team: Team) -> None:
    repo = team.project({"chapter.md": "Once.\n"})
    main = team.head(repo)
    made = team.call(
        "owner", "POST", f"/repositories/{repo}/explorations", json={"name": "Darker  Ending"}
    )
    assert made.status_code == 201 and made.json()["branch"] == "Darker-Ending"
    saved = team.save(
        repo, "part one/notes.md", "Dark.\n", who="writer", exploration="darker ending"
    )
    assert saved["branch"] == "Darker-Ending" and saved["exploration"] == "Darker Ending"
    assert saved["parents"] == [main] and team.head(repo) == main
    got = team.get(
        "writer", f"/repositories/{repo}/files/part one/notes.md", params={"at": "Darker-Ending"}
    )
    assert got.text == "Dark.\n"
    files = team.get("owner", f"/repositories/{repo}/tree", params={"at": saved["id"]}).json()
    assert [f["path"] for f in files] == ["chapter.md", "part one/notes.md"]


def test_saving_what_is_there_makes_no_save(team: Team) -> None:
    repo = team.project({"chapter.md": "Once.\n"})
    before = team.state(repo)
    again = team.call(
        "owner", "POST", f"/repositories/{repo}/save",
        json={"file_path": "chapter.md", "content": "Once.\n"},
    )  # fmt: skip
    assert again.status_code == 200 and again.json()["saved"] is False
    assert again.json()["id"] == team.head(repo) and team.state(repo) == before


def test_expected_head(team: Team) -> None:
    repo = team.project({"chapter.md": "Once.\n"})
    head = team.head(repo)
    good = team.save(repo, "chapter.md", "Twice.\n", expected_head=head)
    before = team.state(repo)
    stale = team.call(
        "editor", "POST", f"/repositories/{repo}/save",
        json={"file_path": "chapter.md", "content": "Thrice.\n", "expected_head": head},
    )  # fmt: skip
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale"
    assert stale.json()["details"]["current"] == good["id"]
    assert team.state(repo) == before


def test_racing_saves_of_different_files_all_land(team: Team) -> None:
    repo = team.project({"chapter.md": "Once.\n"})

    async def race() -> list[str]:
        users = team.services.users
        owner = await users.by_email(team.people["owner"].email)
        editor = await users.by_email(team.people["editor"].email)
        made = await asyncio.gather(
            *(
                team.services.saves.save_text(who, repo, f"{who.display_name}-{n}.md", f"{n}\n")
                for n in range(3)
                for who in (owner, editor)
            )
        )
        return [m.id for m in made]

    ids = team.run(race)
    files = team.get("owner", f"/repositories/{repo}/tree").json()
    assert len({f["path"] for f in files}) == 7  # chapter.md and the six new files
    history = team.get("owner", f"/repositories/{repo}/history").json()["items"]
    assert {s["id"] for s in history} >= set(ids) and len(history) == 7


BAD_PATHS = [
    "../escape.md",
    "part/../../escape.md",
    "/etc/passwd",
    ".git/config",
    "notes/.GIT/hooks/pre-commit",
    "notes/.git./x",
    "back\\slash.md",
    "nul\x00.md",
    "./here.md",
    "a//b.md",
    "folder/",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_unsafe_paths_are_refused(team: Team, path: str) -> None:
    repo = team.project({"chapter.md": "Once.\n"})
    before = team.state(repo)
    got = team.call(
        "owner", "POST", f"/repositories/{repo}/save", json={"file_path": path, "content": "x"}
    )
    assert got.status_code == 422, got.text
    assert got.json()["code"] == "invalid" and got.json()["details"]["field"] == "file_path"
    assert team.state(repo) == before


def bad_requests(head: str) -> list[tuple[str, dict[str, object] | bytes, int, str]]:
    ok = {"file_path": "new.md", "content": "x"}
    return [
        ("oversized", {**ok, "content": "x" * (100 * KiB)}, 413, "too_large"),
        ("not UTF-8", b'{"file_path": "new.md", "content": "caf\xe9"}', 400, "malformed"),
        ("lone surrogate", b'{"file_path": "new.md", "content": "\\ud800"}', 400, "malformed"),
        ("not JSON", b"file_path=new.md", 400, "malformed"),
        ("wrong type", {**ok, "content": 12}, 400, "malformed"),
        ("missing field", {"file_path": "new.md"}, 400, "malformed"),
        ("unknown field", {**ok, "force": True}, 400, "malformed"),
        ("bad head id", {**ok, "expected_head": "HEAD~1"}, 400, "malformed"),
        ("unknown exploration", {**ok, "exploration": "nowhere"}, 404, "not_found"),
        ("through a file", {**ok, "file_path": "chapter.md/inside.md"}, 422, "invalid"),
        ("onto a folder", {**ok, "file_path": "part"}, 422, "invalid"),
        ("stale head", {**ok, "expected_head": "0" * 40}, 409, "stale"),
    ]


def test_bad_input_is_refused_and_changes_nothing(team: Team) -> None:
    repo = team.project({"chapter.md": "Once.\n", "part/one.md": "One.\n"})
    before = team.state(repo)
    for label, body, status, code in bad_requests(team.head(repo)):
        if isinstance(body, bytes):
            got = team.call(
                "owner", "POST", f"/repositories/{repo}/save", content=body,
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
        else:
            got = team.call("owner", "POST", f"/repositories/{repo}/save", json=body)
        assert (got.status_code, got.json()["code"]) == (status, code), (label, got.text)
        assert set(got.json()) == {"code", "message", "details"}
        assert team.state(repo) == before, label


PNG = bytes(range(256)) * 400  # 100 KiB, not text


def test_uploads_are_saves_and_come_back_as_they_were(team: Team) -> None:
    repo = team.project({"chapter.md": "Once.\n"})
    put = team.call(
        "writer", "PUT", f"/repositories/{repo}/files/art/cover.png", content=PNG,
        params={"exploration": "main story"},
    )  # fmt: skip
    assert put.status_code == 403  # writers save on explorations only
    put = team.call(
        "editor", "PUT", f"/repositories/{repo}/files/art/cover.png", content=PNG,
        params={"message": "The cover"},
    )  # fmt: skip
    assert put.status_code == 201, put.text
    saved = put.json()
    assert (saved["message"], saved["words_added"], saved["file_path"]) == (
        "The cover",
        0,
        "art/cover.png",
    )
    got = team.get("beta", f"/repositories/{repo}/files/art/cover.png")
    assert got.content == PNG and got.headers["content-type"] == "image/png"
    assert got.headers["etag"] == f'"{saved["file_id"]}"'
    assert got.headers["x-content-type-options"] == "nosniff"
    # Bigger than the JSON body limit: uploads are bounded by max_upload_bytes alone.
    assert len(PNG) > SETTINGS["max_request_bytes"]


def test_oversized_uploads_are_refused_while_streaming(team: Team) -> None:
    repo = team.project({"chapter.md": "Once.\n"})
    before = team.state(repo)
    big = b"\x00" * (SETTINGS["max_upload_bytes"] + 1)
    declared = team.call("owner", "PUT", f"/repositories/{repo}/files/big.bin", content=big)
    assert (declared.status_code, declared.json()["code"]) == (413, "too_large")

    def chunks() -> object:
        for start in range(0, len(big), 32 * KiB):
            yield big[start : start + 32 * KiB]

    streamed = team.call("owner", "PUT", f"/repositories/{repo}/files/big.bin", content=chunks())
    assert (streamed.status_code, streamed.json()["code"]) == (413, "too_large")
    assert team.state(repo) == before
    just = team.call(
        "owner", "PUT", f"/repositories/{repo}/files/big.bin", content=big[:-1]
    )  # exactly the limit
    assert just.status_code == 201, just.text


def test_racing_saves_of_one_file_never_lose_a_version(team: Team) -> None:
    """Two writers save the same file at once: either the second saw the first (its
    parent), or it is refused as stale; never does one text silently replace a version
    its writer did not see."""
    repo = team.project({"chapter.md": "Once.\n"})

    async def race() -> list[object]:
        users = team.services.users
        owner = await users.by_email(team.people["owner"].email)
        editor = await users.by_email(team.people["editor"].email)
        return await asyncio.gather(
            team.services.saves.save_text(owner, repo, "chapter.md", "Owner's text.\n"),
            team.services.saves.save_text(editor, repo, "chapter.md", "Editor's text.\n"),
            return_exceptions=True,
        )

    for _ in range(3):
        results = team.run(race)
        made = [r for r in results if not isinstance(r, Exception)]
        assert all(isinstance(r, StaleRef) for r in results if isinstance(r, Exception))
        assert made, results
        if len(made) == 2:
            first, second = sorted(made, key=lambda r: r.seq)  # type: ignore[attr-defined]
            assert second.parents == [first.id]  # type: ignore[attr-defined]
        team.save(repo, "chapter.md", "Once.\n")
