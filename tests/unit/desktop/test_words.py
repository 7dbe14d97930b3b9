"""Words written per day, from the saves (trailers, or the engine's diff for saves made
by other tools), on the author's own calendar, merge saves left out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from gitwrite.project import Project
from gitwrite.prose import count_words
from gitwrite_desktop.core.cache import Cache
from gitwrite_desktop.core.words import SaveLog, words_per_day
from tests.builders import build_history, make_project, write
from tests.compat.gitcli import git
from tests.corpus import chapters, paragraphs


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    made = Cache.open(tmp_path / "data")
    yield made
    made.close()


def test_saves_today_add_up_from_their_trailers(tmp_path: Path, cache: Cache) -> None:
    (name, text), *_ = chapters()
    parts = paragraphs(text)
    with make_project(tmp_path / "novel", {name: parts[0]}) as project:
        build_history(project, [{name: "\n\n".join(parts[: n + 1])} for n in range(1, 5)])
        log = SaveLog(cache.db, "p")
        assert log.refresh(project) == 6  # the first save, the chapters, four more
        saves = project.history(50)
        (today,) = words_per_day(cache.db, "p")
        assert today.day == saves[0].time.date()
        assert today.saves == 6
        assert today.words_added == sum(s.words_added for s in saves)
        assert today.words_removed == sum(s.words_removed for s in saves)
        assert log.refresh(project) == 0
        write(project, {name: text})
        project.save()
        assert log.refresh(project) == 1
        assert words_per_day(cache.db, "p")[0].words_added == today.words_added + count_words(
            "\n\n".join(parts[5:])
        )


def test_saves_made_by_git_count_on_the_authors_own_day(tmp_path: Path, cache: Cache) -> None:
    with make_project(tmp_path / "novel", {"a.md": "One two three.\n"}) as project:
        root = project.root
        (root / "a.md").write_text("One two three four five.\n", encoding="utf-8")
        # 23:30 in Tokyo on 1 March is still 28 February in UTC: the writer's day counts.
        git(root, "commit", "-qam", "late night", "--date=2024-03-01T23:30:00+09:00")
        (root / "a.md").write_text("One two three four five six.\n", encoding="utf-8")
        git(root, "commit", "-qam", "next morning", "--date=2024-03-02T08:00:00+09:00")
        (root / "a.md").write_text("One two six.\n", encoding="utf-8")
        git(root, "commit", "-qam", "cut", "--date=2024-03-02T09:00:00+09:00")
        SaveLog(cache.db, "p").refresh(project)
    days = words_per_day(cache.db, "p", until=date(2024, 12, 31))
    assert [(d.day, d.words_added, d.words_removed, d.saves) for d in days] == [
        (date(2024, 3, 1), 2, 0, 1),
        (date(2024, 3, 2), 1, 3, 2),
    ]
    assert days[1].net == -2
    assert words_per_day(cache.db, "p", since=date(2024, 3, 2), until=date(2024, 3, 2)) == [days[1]]
    assert words_per_day(cache.db, "p", author_email="GIT@example.com", until=date(2025, 1, 1))
    assert words_per_day(cache.db, "p", author_email="nobody@example.com") == []


def test_merge_saves_are_not_counted_twice(tmp_path: Path, cache: Cache) -> None:
    with make_project(tmp_path / "novel", {"a.md": "Start.\n", "b.md": "Other.\n"}) as project:
        project.explorations.create("draft", switch=True)
        write(project, {"a.md": "Start. Five more words written here.\n"})
        project.save()
        project.explorations.switch("main")
        write(project, {"b.md": "Other. Two more.\n"})
        project.save()
        outcome = project.explorations.merge("draft")
        assert outcome.save is not None and outcome.save.words_added > 0
        log = SaveLog(cache.db, "p")
        log.refresh(project)
        merges = cache.db.execute("SELECT count(*) FROM saves WHERE merge = 1").fetchone()[0]
        assert merges == 1
        counted = sum(d.words_added for d in words_per_day(cache.db, "p"))
        every_save = {s.id: s for s in project.history(50)}
        every_save.update({s.id: s for s in project.history(50, start="draft")})
        plain = [s for s in every_save.values() if len(s.parents) < 2]
        assert counted == sum(s.words_added for s in plain)


def test_saves_on_every_branch_are_found_and_stay_when_a_branch_goes(
    tmp_path: Path, cache: Cache
) -> None:
    with make_project(tmp_path / "novel", {"a.md": "Start.\n"}) as project:
        project.explorations.create("draft", switch=True)
        write(project, {"a.md": "Start. And a draft.\n"})
        project.save()
        project.explorations.switch("main")
        log = SaveLog(cache.db, "p")
        assert log.refresh(project) == 3
        project.explorations.delete("draft", force=True)
        assert log.refresh(project) == 0
        assert log.count() == 3
        walked = cache.db.execute("SELECT ref FROM walked_heads").fetchall()
        assert walked == [("refs/heads/main",)]


def test_every_project_together(tmp_path: Path, cache: Cache) -> None:
    for name in ("a", "b"):
        with Project.create(tmp_path / name) as project:
            SaveLog(cache.db, name).refresh(project)
    (today,) = words_per_day(cache.db)
    assert today.saves == 2
