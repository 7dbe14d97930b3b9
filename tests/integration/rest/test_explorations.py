"""Explorations and milestones over REST, on SQLite and PostgreSQL: names as the desktop
makes them, clean merges with the prose merge (two parents, word counts), conflicting
merges that change nothing and name the files, and milestones as annotated tags."""

from __future__ import annotations

from pathlib import Path

from dulwich.objects import Tag

from gitwrite import prose
from tests.integration.rest.conftest import Team
from tests.integration.rest.helpers import commit, export

PARAGRAPH = (
    "It was a bright cold day in April. The clocks were striking thirteen. "
    "Winston slipped quickly through the glass doors."
)
CHAPTER = f"# One\n\n{PARAGRAPH}\n\nThe hallway smelt of boiled cabbage.\n"


def explorations(team: Team, repo: str, who: str = "owner") -> list[dict]:
    return team.get(who, f"/repositories/{repo}/explorations").json()


def merge(team: Team, repo: str, name: str, who: str = "editor", **body: str) -> object:
    return team.call(who, "POST", f"/repositories/{repo}/explorations/{name}/merge", json=body)


def test_names_follow_the_desktop_rules(team: Team) -> None:
    repo = team.project({"ch.md": CHAPTER})
    url = f"/repositories/{repo}/explorations"
    made = team.call("writer", "POST", url, json={"name": "  darker   ending "})
    assert made.status_code == 201
    assert (made.json()["branch"], made.json()["name"]) == ("darker-ending", "darker ending")
    assert made.json()["head"] == team.head(repo) and made.json()["merged"] is True
    for name, status, code in [
        ("Darker Ending", 409, "conflict"),
        ("main story", 409, "conflict"),
        ("MAIN", 409, "conflict"),
        ("darker-ending/twist", 409, "conflict"),
        ("a:b", 422, "invalid"),
        ("..", 422, "invalid"),
        ("-dash", 422, "invalid"),
        ("line\nbreak", 422, "invalid"),
    ]:
        got = team.call("writer", "POST", url, json={"name": name})
        assert (got.status_code, got.json()["code"]) == (status, code), (name, got.text)
    at_old = team.call("writer", "POST", url, json={"name": "from the start", "at": "f" * 40})
    assert at_old.status_code == 404
    assert [e["branch"] for e in explorations(team, repo)] == ["main", "darker-ending"]
    assert team.call("writer", "DELETE", f"{url}/Darker Ending").status_code == 204
    assert team.call("writer", "DELETE", f"{url}/darker-ending").status_code == 404
    assert team.call("owner", "DELETE", f"{url}/main").status_code == 403
    assert [e["branch"] for e in explorations(team, repo)] == ["main"]


def test_a_clean_merge_is_a_two_parent_save(team: Team, tmp_path: Path) -> None:
    repo = team.project({"ch.md": CHAPTER, "notes.md": "Notes.\n"})
    team.call("owner", "POST", f"/repositories/{repo}/explorations", json={"name": "rewrite"})
    # Different sentences of the same paragraph: a line merge would conflict.
    theirs = CHAPTER.replace("bright cold day", "bright, bitterly cold day")
    team.save(repo, "ch.md", theirs, who="writer", exploration="rewrite")
    team.save(repo, "extra.md", "New file.\n", who="writer", exploration="rewrite")
    ours = CHAPTER.replace("slipped quickly", "slipped")
    team.save(repo, "ch.md", ours)
    main, side = team.head(repo), team.head(repo, "rewrite")
    assert [e["merged"] for e in explorations(team, repo)] == [True, False]
    assert merge(team, repo, "rewrite", who="writer").status_code == 403

    got = merge(team, repo, "rewrite")
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["status"], body["into"], body["parents"]) == ("merged", "main story", [main, side])
    assert body["changed"] == ["ch.md", "extra.md"] and body["fast_forward"] is False
    merged = team.get("owner", f"/repositories/{repo}/files/ch.md").text
    assert merged == theirs.replace("slipped quickly", "slipped")
    words = prose.word_stats(ours, merged)
    expected = (words.added + prose.count_words("New file.\n"), words.removed)
    assert (body["words_added"], body["words_removed"]) == expected == (3, 0)
    assert team.head(repo) == body["save"]
    assert [e["merged"] for e in explorations(team, repo)] == [True, True]
    local = export(team, repo, tmp_path / "export")
    made = commit(local, body["save"])
    assert made.message.decode().startswith("Merge exploration 'rewrite' into main story")
    assert made.author.decode().endswith(f"<{team.people['editor'].email}>")

    again = merge(team, repo, "rewrite").json()
    assert (again["status"], again["save"]) == ("up_to_date", None)
    assert team.head(repo) == body["save"]


def test_merging_into_an_exploration(team: Team) -> None:
    repo = team.project({"ch.md": CHAPTER})
    for name in ("one", "two"):
        team.call("owner", "POST", f"/repositories/{repo}/explorations", json={"name": name})
    team.save(repo, "two.md", "Two.\n", exploration="two")
    before_main = team.head(repo)
    got = merge(team, repo, "two", into="one", message="Bring two into one")
    body = got.json()
    assert body["into"] == "one" and body["fast_forward"] is True
    assert team.head(repo, "one") == body["save"] and team.head(repo) == before_main
    history = team.get("owner", f"/repositories/{repo}/history", params={"at": "one"}).json()
    assert history["items"][0]["summary"] == "Bring two into one"
    same = merge(team, repo, "one", into="one")
    assert same.status_code == 422


def test_a_conflicting_merge_changes_nothing_and_names_the_files(team: Team) -> None:
    repo = team.project({"ch.md": CHAPTER, "gone.md": "Soon deleted.\n", "art.png": "x"})
    team.call("owner", "POST", f"/repositories/{repo}/explorations", json={"name": "alt"})
    team.save(repo, "ch.md", CHAPTER.replace("April", "May"), exploration="alt")
    team.save(repo, "gone.md", "Changed there.\n", exploration="alt")
    team.save(repo, "clean.md", "Fine.\n", exploration="alt")
    team.save(repo, "ch.md", CHAPTER.replace("April", "June"))
    png = team.call("owner", "PUT", f"/repositories/{repo}/files/art.png", content=b"\x00\x01")
    assert png.status_code == 201
    team.call(
        "owner", "PUT", f"/repositories/{repo}/files/art.png", content=b"\x00\x02",
        params={"exploration": "alt"},
    )  # fmt: skip
    gone = team.call("owner", "DELETE", f"/repositories/{repo}/files/gone.md")
    assert gone.status_code == 200 and gone.json()["file_id"] is None
    before = team.state(repo)
    got = merge(team, repo, "alt", who="owner")
    assert got.status_code == 409
    assert got.json()["code"] == "merge_conflict"
    assert got.json()["details"]["conflicts"] == [
        {"path": "art.png", "kind": "both changed"},
        {"path": "ch.md", "kind": "both changed"},
        {"path": "gone.md", "kind": "deleted here, changed there"},
    ]
    assert team.state(repo) == before


def test_milestones_are_annotated_tags(team: Team, tmp_path: Path) -> None:
    repo = team.project({"ch.md": CHAPTER})
    first = team.head(repo)
    team.save(repo, "ch.md", CHAPTER + "More.\n")
    url = f"/repositories/{repo}/milestones"
    made = team.call(
        "editor", "POST", url, json={"name": "sent to editor", "message": "For Ann", "at": first}
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["name"], body["tag"], body["message"], body["save"]) == (
        "sent to editor",
        "sent-to-editor",
        "For Ann",
        first,
    )
    assert body["tagger"]["email"] == team.people["editor"].email and body["annotated"]
    draft = team.call("owner", "POST", url, json={"name": "first-draft"}).json()
    assert draft["save"] == team.head(repo) and draft["message"] == ""
    listed = team.get("beta", url).json()
    assert sorted(m["tag"] for m in listed) == ["first-draft", "sent-to-editor"]
    assert {m["tag"]: m for m in listed} == {"first-draft": draft, "sent-to-editor": body}
    for name, status in [("Sent To Editor", 409), ("a~b", 422), ("main", 409), ("", 400)]:
        if name == "main":
            team.call("owner", "POST", f"/repositories/{repo}/explorations", json={"name": name})
        got = team.call("owner", "POST", url, json={"name": name})
        assert got.status_code == status, (name, got.text)
    shown = team.get("beta", f"/repositories/{repo}/files/ch.md", params={"at": "sent to editor"})
    assert shown.text == CHAPTER

    local = export(team, repo, tmp_path / "export")
    tag = local[local.refs[b"refs/tags/sent-to-editor"]]
    assert isinstance(tag, Tag) and tag.object[1].decode() == first
    assert tag.message.decode() == "For Ann\n\nGitWrite-Milestone: sent to editor\n"
