"""The annotation index: threads by file, status and position, refreshed when the
annotations ref moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitwrite.annotations import AnnotationKind, AnnotationStatus
from gitwrite.project import Project
from gitwrite_desktop.core.annotation_index import (
    AnnotationIndex,
    status_counts,
    thread,
    threads,
)
from gitwrite_desktop.core.cache import Cache
from tests.builders import make_project
from tests.corpus import chapters


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with make_project(tmp_path / "novel", dict(chapters()[:2])) as made:
        yield made


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    made = Cache.open(tmp_path / "data")
    with made.write():
        made.db.table("projects").insert({"id": "p", "path": "/novel", "name": "Novel"})
    yield made
    made.close()


def span(project: Project, path: str, quote: str) -> tuple[int, int]:
    start = project.read(path).index(quote)
    return start, start + len(quote)


def test_threads_by_file_position_and_status(project: Project, cache: Cache) -> None:
    notes = project.annotations
    one, two = "chapter-01.md", "chapter-02.md"
    late = notes.create(one, *span(project, one, "Netherfield Park"), kind="question", body="?")
    early = notes.create(one, *span(project, one, "truth universally"), kind="comment", body="Yes")
    other = notes.create(
        two,
        *span(project, two, "Mr. Bennet"),
        kind=AnnotationKind.SUGGESTION,
        body="",
        suggestion="Mr Bennet",
    )
    reply = notes.reply(early.id, "Agreed.")
    notes.set_status(late.id, AnnotationStatus.RESOLVED)
    index = AnnotationIndex(cache.db, "p")
    assert index.refresh(project) == {late.id, early.id, other.id, reply.id}

    listed = threads(cache.db, "p")
    assert [a.id for a in listed] == [early.id, late.id, other.id]
    assert [a.replies for a in listed] == [1, 0, 0]
    assert listed[2].suggestion == "Mr Bennet" and listed[2].kind == "suggestion"
    assert [a.id for a in threads(cache.db, "p", path=one)] == [early.id, late.id]
    assert [a.id for a in threads(cache.db, "p", status="resolved")] == [late.id]
    first_line = early.range.start_line
    on_line = threads(cache.db, "p", path=one, lines=(first_line, first_line))
    assert [a.id for a in on_line] == [early.id]
    assert [a.id for a in thread(cache.db, "p", reply.id)] == [early.id, reply.id]
    assert [a.id for a in thread(cache.db, "p", early.id)] == [early.id, reply.id]
    assert status_counts(cache.db, "p") == {"open": 2, "resolved": 1}
    stored = threads(cache.db, "p", path=one)[0]
    assert (stored.start, stored.end, stored.quote) == (
        early.range.start,
        early.range.end,
        "truth universally",
    )
    assert stored.time == early.time and stored.author_email == early.author.email


def test_a_refresh_reads_the_annotations_only_when_their_ref_moved(
    project: Project, cache: Cache
) -> None:
    index = AnnotationIndex(cache.db, "p")
    assert index.refresh(project) == set()  # none yet: nothing to say, but remembered
    assert index.indexed_head() == ""
    path = "chapter-01.md"
    made = project.annotations.create(path, 0, 5, kind="comment", body="Title?")
    assert index.refresh(project) == {made.id}
    assert index.refresh(project) == set()
    project.annotations.set_status(made.id, "accepted")
    assert index.refresh(project) == {made.id}
    (row,) = threads(cache.db, "p")
    assert row.status == "accepted"
    assert index.indexed_head() == project.annotations.store.head().decode()  # type: ignore[union-attr]
