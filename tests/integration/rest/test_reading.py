"""Reading over REST, on SQLite and PostgreSQL: files at any save with ETags, 304 and
immutable caching for what ids name; word counts; export; history a page at a time;
word-level compare; the repository overview."""

from __future__ import annotations

import io
import zipfile

import pytest

from gitwrite.prose import count_words
from tests.corpus import chapters
from tests.integration.rest.conftest import Team

IMMUTABLE = "private, max-age=31536000, immutable"
TEXTS = dict(chapters()[:3])


@pytest.fixture(scope="module")
def novel(team: Team) -> dict[str, object]:
    """Three chapters of Pride and Prejudice, then five saves: ch1 twice, ch2, ch1, ch3."""
    repo = team.project(TEXTS)  # one save per chapter
    first = team.head(repo)
    created = [s["id"] for s in team.get("owner", f"/repositories/{repo}/history").json()["items"]]
    names = sorted(TEXTS)
    saves, words = [], []
    for n, name in enumerate([names[0], names[0], names[1], names[0], names[2]]):
        text = team.get("owner", f"/repositories/{repo}/files/{name}").text
        edited = text.replace("\n\n", f"\n\nSave {n}: it rained again.\n\n", 1)
        saved = team.save(repo, name, edited, message=f"Save {n}")
        saves.append(saved["id"])
        words.append(saved["words_added"])
    return {
        "repo": repo,
        "first": first,
        "created": created,
        "saves": saves,
        "words": words,
        "names": names,
    }


def test_a_file_by_save_id_is_immutable_and_revalidates(team: Team, novel: dict) -> None:
    repo, first = novel["repo"], novel["first"]
    name = novel["names"][0]
    url = f"/repositories/{repo}/files/{name}"
    old = team.get("beta", url, params={"at": first})
    assert old.status_code == 200 and old.text == TEXTS[name]
    assert old.headers["cache-control"] == IMMUTABLE
    assert old.headers["content-type"] == "text/markdown; charset=utf-8"
    etag = old.headers["etag"]
    again = team.get("beta", url, params={"at": first}, headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == etag
    latest = team.get("beta", url)
    assert latest.headers["cache-control"] == "private, no-cache"
    assert latest.headers["etag"] != etag and latest.text != TEXTS[name]
    assert team.get("beta", url, headers={"If-None-Match": etag}).status_code == 200
    assert (
        team.get("beta", url, headers={"If-None-Match": latest.headers["etag"]}).status_code == 304
    )
    blob = team.get("beta", f"/repositories/{repo}/blobs/{etag.strip(chr(34))}")
    assert blob.text == TEXTS[name] and blob.headers["cache-control"] == IMMUTABLE
    revalidated = team.get(
        "beta", f"/repositories/{repo}/blobs/{etag.strip(chr(34))}", headers={"If-None-Match": etag}
    )
    assert revalidated.status_code == 304


def test_unknown_saves_files_and_ids(team: Team, novel: dict) -> None:
    repo = novel["repo"]
    cases = [
        (f"/repositories/{repo}/files/nothing.md", {}, 404, "not_found"),
        (f"/repositories/{repo}/files/chapter-01.md", {"at": "no such save"}, 404, "not_found"),
        (f"/repositories/{repo}/files/chapter-01.md", {"at": "f" * 40}, 404, "not_found"),
        (f"/repositories/{repo}/files/%2E%2E/secret", {}, 422, "invalid"),
        (f"/repositories/{repo}/blobs/{'0' * 40}", {}, 404, "not_found"),
        (f"/repositories/{repo}/blobs/not-an-id", {}, 422, "invalid"),
        (f"/repositories/{repo}/history", {"cursor": "f" * 40}, 422, "invalid"),
        (f"/repositories/{repo}/history", {"limit": "0"}, 400, "malformed"),
        (f"/repositories/{repo}/compare", {"from": "nowhere"}, 404, "not_found"),
    ]
    for url, params, status, code in cases:
        got = team.get("owner", url, params=params)
        assert (got.status_code, got.json()["code"]) == (status, code), (url, params, got.text)


def test_file_list_counts_words(team: Team, novel: dict) -> None:
    repo, first = novel["repo"], novel["first"]
    got = team.get("writer", f"/repositories/{repo}/tree", params={"at": first})
    assert got.headers["cache-control"] == IMMUTABLE
    assert {f["path"]: f["words"] for f in got.json()} == {
        name: count_words(text) for name, text in TEXTS.items()
    }
    assert {f["path"]: f["size"] for f in got.json()} == {
        name: len(text.encode()) for name, text in TEXTS.items()
    }


def test_export_is_a_zip_of_the_save(team: Team, novel: dict) -> None:
    repo, first = novel["repo"], novel["first"]
    got = team.get("writer", f"/repositories/{repo}/export", params={"at": first})
    assert got.headers["content-type"] == "application/zip"
    assert got.headers["content-disposition"] == f'attachment; filename="{repo}-{first[:8]}.zip"'
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        found = {n: archive.read(n).decode() for n in archive.namelist()}
    assert found == {f"{repo}/{name}": text for name, text in TEXTS.items()}
    assert team.get("beta", f"/repositories/{repo}/export").status_code == 403


def test_history_pages_with_cursors_and_links(team: Team, novel: dict) -> None:
    repo = novel["repo"]
    newest_first = [*reversed(novel["saves"]), *novel["created"]]
    seen: list[str] = []
    url: str | None = f"/repositories/{repo}/history?limit=2"
    pages = 0
    while url is not None:
        page = team.get("editor", url).json()
        seen += [s["id"] for s in page["items"]]
        assert page["head"] == newest_first[0]
        url = page["next"]
        pages += 1
        if url is not None:
            assert page["cursor"] == page["items"][-1]["id"] and "limit=2" in url
    assert seen == newest_first and pages == 4
    item = team.get("editor", f"/repositories/{repo}/history?limit=1").json()["items"][0]
    assert item["summary"] == "Save 4" and item["words_added"] == novel["words"][4] > 0
    assert item["author"]["email"] == team.people["owner"].email


def test_history_of_one_file(team: Team, novel: dict) -> None:
    repo, saves = novel["repo"], novel["saves"]
    name = novel["names"][0]
    first_page = team.get(
        "owner", f"/repositories/{repo}/history", params={"path": name, "limit": 2}
    ).json()
    assert [s["id"] for s in first_page["items"]] == [saves[3], saves[1]]
    rest = team.get("owner", first_page["next"]).json()
    assert [s["id"] for s in rest["items"]] == [saves[0], novel["created"][-1]]
    assert rest["next"] is None
    at_old = team.get(
        "owner", f"/repositories/{repo}/history", params={"path": name, "at": saves[1]}
    ).json()
    assert [s["id"] for s in at_old["items"]] == [saves[1], saves[0], novel["created"][-1]]


def test_compare_runs_rebuild_both_versions(team: Team, novel: dict) -> None:
    repo, first, saves = novel["repo"], novel["first"], novel["saves"]
    got = team.get(
        "owner", f"/repositories/{repo}/compare", params={"from": first, "to": saves[-1]}
    )
    assert got.headers["cache-control"] == IMMUTABLE
    body = got.json()
    assert (body["from"], body["to"]) == (first, saves[-1])
    assert [f["path"] for f in body["files"]] == sorted(TEXTS)
    for change in body["files"]:
        old = "".join(r["text"] for r in change["runs"] if r["kind"] != "added")
        new = "".join(r["text"] for r in change["runs"] if r["kind"] != "removed")
        assert old == TEXTS[change["path"]]
        assert new == team.get("owner", f"/repositories/{repo}/files/{change['path']}").text
    assert body["words_added"] == sum(novel["words"]) and body["words_removed"] == 0
    latest = team.get("owner", f"/repositories/{repo}/compare").json()  # last save vs parent
    assert (latest["from"], latest["to"]) == (saves[-2], saves[-1])
    assert [f["path"] for f in latest["files"]] == [novel["names"][2]]
    one = team.get(
        "owner", f"/repositories/{repo}/compare", params={"from": first, "path": "chapter-02.md"}
    ).json()
    assert [f["path"] for f in one["files"]] == ["chapter-02.md"]
    added = [r["text"] for r in one["files"][0]["runs"] if r["kind"] == "added"]
    assert "Save 2: it rained again." in "".join(added)


def test_overview(team: Team, novel: dict) -> None:
    repo, first, saves = novel["repo"], novel["first"], novel["saves"]
    got = team.get("beta", f"/repositories/{repo}")
    body = got.json()
    assert body["role"] == "beta_reader" and body["at"] == saves[-1]
    assert [s["id"] for s in body["latest_saves"]][:5] == list(reversed(saves))
    assert [e["name"] for e in body["explorations"]] == ["main story"]
    assert body["words"] == sum(f["words"] for f in body["files"])
    assert (
        team.get(
            "beta", f"/repositories/{repo}", headers={"If-None-Match": got.headers["etag"]}
        ).status_code
        == 304
    )
    old = team.get("beta", f"/repositories/{repo}", params={"at": first}).json()
    assert old["at"] == first and [s["id"] for s in old["latest_saves"]] == novel["created"]
    assert old["words"] == sum(count_words(t) for t in TEXTS.values())
