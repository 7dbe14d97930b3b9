"""The full-text index of the working text: paragraphs with offsets, refreshed only
where files changed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitwrite.project import Project
from gitwrite.prose import count_words
from gitwrite_desktop.core.cache import Cache
from gitwrite_desktop.core.textindex import TextIndex, file_words, paragraphs
from tests.builders import make_project, write
from tests.corpus import chapters

TEXT = st.text(st.characters(codec="utf-8"), max_size=300) | st.lists(
    st.sampled_from(["word", " ", "\n", "\n\n", "\r\n", "\t", " \n \n", "é", "—"]), max_size=40
).map("".join)


@given(TEXT)
def test_each_paragraph_is_the_text_at_its_offset_and_line(text: str) -> None:
    found = paragraphs(text)
    for number, paragraph in enumerate(found):
        assert paragraph.ordinal == number
        assert paragraph.text and paragraph.text == paragraph.text.strip()
        assert text[paragraph.start : paragraph.start + len(paragraph.text)] == paragraph.text
        assert paragraph.line == text.count("\n", 0, paragraph.start) + 1
    assert " ".join(p.text for p in found).split() == text.split()


def test_paragraphs_of_a_chapter() -> None:
    text = "\n\n# Chapter 1\n\nIt is a truth\nuniversally acknowledged.\n\n\n  Indented.\n"
    assert [(p.text, p.start, p.line) for p in paragraphs(text)] == [
        ("# Chapter 1", 2, 3),
        ("It is a truth\nuniversally acknowledged.", 15, 5),
        ("Indented.", 59, 9),
    ]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with make_project(tmp_path / "novel", dict(chapters()[:4])) as made:
        yield made


@pytest.fixture
def index(tmp_path: Path) -> Iterator[TextIndex]:
    cache = Cache.open(tmp_path / "data")
    yield TextIndex(cache.db, "p")
    cache.close()


def rows(index: TextIndex, path: str) -> list[tuple[int, str]]:
    return index.db.execute(
        "SELECT start, text FROM paragraphs WHERE project_id = 'p' AND path = ? ORDER BY ordinal",
        [path],
    ).fetchall()


def test_the_first_refresh_indexes_every_text_file(project: Project, index: TextIndex) -> None:
    (project.root / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (project.root / "notes.tmp").write_text("ignored by .gitignore", encoding="utf-8")
    (project.root / "drafts").mkdir()
    (project.root / "drafts" / ".hidden.md").write_text("not prose", encoding="utf-8")
    changed = index.refresh(project)
    assert changed == {"chapter-01.md", "chapter-02.md", "chapter-03.md", "chapter-04.md"} | {
        "cover.png"
    }  # not notes.tmp (ignored), .gitignore nor drafts/.hidden.md (hidden)
    text = (project.root / "chapter-02.md").read_text(encoding="utf-8")
    stored = rows(index, "chapter-02.md")
    assert stored == [(p.start, p.text) for p in paragraphs(text)]
    assert rows(index, "cover.png") == []
    words = file_words(index.db, "p")
    assert "cover.png" not in words and words["chapter-02.md"] == count_words(text)


def test_a_refresh_rereads_only_changed_files(project: Project, index: TextIndex) -> None:
    index.refresh(project)
    index.refresh(project)  # files written within the last seconds are read once more
    assert index.refresh(project) == set()
    write(project, {"chapter-03.md": "# Chapter 3\n\nAll new.\n", "chapter-05.md": "Added.\n"})
    os.remove(project.root / "chapter-04.md")
    assert index.refresh(project) == {"chapter-03.md", "chapter-04.md", "chapter-05.md"}
    assert rows(index, "chapter-03.md") == [(0, "# Chapter 3"), (13, "All new.")]
    assert rows(index, "chapter-04.md") == []
    assert "chapter-04.md" not in file_words(index.db, "p")


def test_a_rewrite_with_the_same_size_and_time_is_not_missed(
    project: Project, index: TextIndex
) -> None:
    path = project.root / "chapter-01.md"
    index.refresh(project)
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("truth", "TRUTH"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as a coarse clock would
    assert index.refresh(project) == {"chapter-01.md"}
    assert any("TRUTH" in t for _, t in rows(index, "chapter-01.md"))


def test_touching_a_file_without_changing_it_is_no_change(
    project: Project, index: TextIndex
) -> None:
    index.refresh(project)
    os.utime(project.root / "chapter-02.md")
    assert index.refresh(project) == set()


def test_refreshing_named_paths_only(project: Project, index: TextIndex) -> None:
    index.refresh(project)
    write(project, {"chapter-01.md": "One.\n", "chapter-02.md": "Two.\n"})
    assert index.refresh(project, ["chapter-02.md", "missing.md"]) == {"chapter-02.md"}
    assert rows(index, "chapter-02.md") == [(0, "Two.")]
    assert rows(index, "chapter-01.md") != [(0, "One.")]
