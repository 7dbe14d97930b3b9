"""Annotations: create, reply, status, list, re-anchor after edits, apply a suggestion."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from dulwich.object_store import tree_lookup_path
from dulwich.objects import Blob, Commit

from gitwrite.annotation_store import REF, Annotation
from gitwrite.annotations import AnnotationKind, AnnotationStatus
from gitwrite.errors import (
    AnnotationError,
    InvalidAnnotation,
    InvalidPath,
    InvalidRange,
    QuoteNotFound,
    SaveConflict,
    UnknownAnnotation,
    UnknownFile,
    UnknownRevision,
    UnsavedChanges,
)
from gitwrite.project import Project
from tests.builders import WRITER, make_project, write
from tests.corpus import chapters, paragraphs

CH1 = "chapter-01.md"
OPENING = "It is a truth universally acknowledged"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "novel", dict(chapters()[:3]))


def span(text: str, phrase: str, nth: int = 0) -> tuple[int, int]:
    """The offsets of the ``nth`` occurrence (from 0) of ``phrase`` in ``text``."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(phrase, at + 1)
    return at, at + len(phrase)


def ref_head(project: Project) -> bytes | None:
    return project.repo.refs.as_dict().get(REF)


def ref_file(project: Project, path: str) -> bytes:
    commit = project.repo.object_store[project.repo.refs[REF]]
    assert isinstance(commit, Commit)
    _, sha = tree_lookup_path(project.repo.object_store.__getitem__, commit.tree, path.encode())
    blob = project.repo.object_store[sha]
    assert isinstance(blob, Blob)
    return blob.data


def ref_commits(project: Project) -> int:
    return len(list(project.repo.get_walker(include=[project.repo.refs[REF]])))


def comment(project: Project, phrase: str = OPENING, body: str = "Lovely.", **kw: object) -> str:
    text = project.read(CH1)
    start, end = span(text, phrase)
    made = project.annotations.create(CH1, start, end, kind="comment", body=body, **kw)  # type: ignore[arg-type]
    return made.id


# -- create -----------------------------------------------------------------------------


def test_create_records_everything_and_stores_one_json_file(project: Project) -> None:
    text = project.read(CH1)
    start, end = span(text, "a single man in possession\nof a good fortune")
    head = project.head_id()
    assert head is not None
    made = project.annotations.create(CH1, start, end, kind="question", body="Whose fortune?")
    assert made.quote == "a single man in possession\nof a good fortune" == text[start:end]
    assert (made.range.start, made.range.end) == (start, end)
    assert (made.range.start_line, made.range.end_line) == (4, 5)
    assert text.splitlines()[3].endswith("a single man in possession")
    assert made.kind is AnnotationKind.QUESTION
    assert made.status is AnnotationStatus.OPEN
    assert (made.path, made.save, made.author) == (CH1, head.decode(), WRITER)
    assert (made.body, made.parent, made.suggestion) == ("Whose fortune?", None, None)
    assert abs(made.time - datetime.now().astimezone()) < timedelta(seconds=5)
    assert project.annotations.get(made.id) == made
    stored = ref_file(project, f"annotations/{made.id[:2]}/{made.id}.json")
    assert msgspec.json.decode(stored, type=Annotation) == made
    assert msgspec.json.decode(stored)["type"] == "annotation"
    assert [t.annotation for t in project.annotations.list()] == [made]


def test_writing_annotations_never_touches_the_folder_or_the_index(project: Project) -> None:
    index = (project.root / ".git" / "index").read_bytes()
    files = {p: (project.root / p).read_bytes() for p in project.files()}
    first = comment(project)
    project.annotations.reply(first, "Agreed.")
    project.annotations.set_status(first, "resolved")
    assert (project.root / ".git" / "index").read_bytes() == index
    assert {p: (project.root / p).read_bytes() for p in project.files()} == files
    assert project.status().clean
    assert project.head_ref == b"refs/heads/main"


def test_create_on_an_older_save_checks_the_range_against_that_save(project: Project) -> None:
    old = project.head_id()
    assert old is not None
    write(project, {CH1: "# Chapter 1\n\nShort now.\n"})
    project.save()
    text = project.read(CH1, at=old.decode())
    start, end = span(text, "Netherfield Park")
    made = project.annotations.create(
        CH1, start, end, kind="comment", body="Old text", at=old.decode()
    )
    assert (made.save, made.quote) == (old.decode(), "Netherfield Park")
    with pytest.raises(InvalidRange):
        project.annotations.create(CH1, start, end, kind="comment", body="Not in the last save")


def test_the_range_is_checked_against_the_save_not_the_disk(project: Project) -> None:
    write(project, {CH1: "Unsaved words.\n" + project.read(CH1)})
    made = project.annotations.create(CH1, 0, 9, kind="comment", body="x")
    assert made.quote == "# Chapter"


@pytest.mark.parametrize(
    ("start", "end", "error", "reason"),
    [
        (-1, 5, InvalidRange, "the text has 4492 characters"),
        (10, 5000, InvalidRange, "the text has 4492 characters"),
        (10, 10, InvalidRange, "select some text (the range is empty)"),
        (20, 10, InvalidRange, "select some text (the range is empty)"),
        (1.5, 10, InvalidAnnotation, "offsets must be whole numbers"),
        (True, 10, InvalidAnnotation, "offsets must be whole numbers"),
        ("1", 10, InvalidAnnotation, "offsets must be whole numbers"),
    ],
)
def test_bad_ranges_are_refused_and_nothing_is_written(
    project: Project, start: int, end: int, error: type[AnnotationError], reason: str
) -> None:
    comment(project)
    before = ref_head(project)
    with pytest.raises(error) as caught:
        project.annotations.create(CH1, start, end, kind="comment", body="x")
    assert caught.value.reason == reason  # type: ignore[attr-defined]
    assert ref_head(project) == before
    assert len(project.annotations.list()) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "praise", "body": "x"}, "kind"),
        ({"kind": "comment", "body": "   "}, "body"),
        ({"kind": "question", "body": None}, "body"),
        ({"kind": "comment", "body": "x", "suggestion": "y"}, "suggestion"),
        ({"kind": "suggestion", "body": "x"}, "suggestion"),
        ({"kind": "suggestion", "body": "x", "suggestion": "# Chapter"}, "suggestion"),
    ],
)
def test_bad_kinds_bodies_and_suggestions_are_refused(
    project: Project, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidAnnotation) as caught:
        project.annotations.create(CH1, 0, 9, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert ref_head(project) is None
    assert project.annotations.list() == []


def test_bad_files_and_saves_are_refused(project: Project) -> None:
    write(project, {"cover.png": "\x00PNG"})
    project.save()
    cases: list[tuple[dict[str, object], type[Exception]]] = [
        ({"path": "nowhere.md"}, UnknownFile),
        ({"path": "../outside.md"}, InvalidPath),
        ({"path": ".git/config"}, InvalidPath),
        ({"path": "cover.png"}, InvalidAnnotation),
        ({"path": CH1, "at": "no-such-save"}, UnknownRevision),
    ]
    for args, error in cases:
        with pytest.raises(error):
            project.annotations.create(
                args["path"],  # type: ignore[arg-type]
                0,
                3,
                kind="comment",
                body="x",
                at=args.get("at"),  # type: ignore[arg-type]
            )
    assert ref_head(project) is None


# -- replies and status -----------------------------------------------------------------


def test_replies_form_one_thread_oldest_first(project: Project) -> None:
    first = comment(project)
    other = comment(project, "Mr. Bennet replied")
    one = project.annotations.reply(first, "First reply.")
    two = project.annotations.reply(one.id, "Reply to the reply.")
    assert one.parent == two.parent == first
    assert (one.kind, one.path, one.quote) == (AnnotationKind.COMMENT, CH1, OPENING)
    threads = {t.id: t for t in project.annotations.list()}
    assert set(threads) == {first, other}
    assert [r.body for r in threads[first].replies] == ["First reply.", "Reply to the reply."]
    assert threads[other].replies == ()
    assert project.annotations.thread(two.id) == threads[first]
    assert ref_file(project, f"annotations/{two.id[:2]}/{two.id}.json").count(b'"parent"') == 1


def test_status_changes_and_filters(project: Project) -> None:
    first = comment(project)
    second = comment(project, "Mr. Bennet replied")
    reply = project.annotations.reply(first, "Done, I think.")
    writes = ref_commits(project)
    changed = project.annotations.set_status(first, "resolved")
    assert changed.status is AnnotationStatus.RESOLVED
    assert project.annotations.get(first).status is AnnotationStatus.RESOLVED
    assert project.annotations.get(reply.id).status is AnnotationStatus.RESOLVED
    assert [t.id for t in project.annotations.list(status="resolved")] == [first]
    assert [t.id for t in project.annotations.list(status=AnnotationStatus.OPEN)] == [second]
    assert ref_commits(project) == writes + 1
    # The same status again writes nothing.
    project.annotations.set_status(first, "resolved")
    assert ref_commits(project) == writes + 1
    project.annotations.set_status(first, "open")
    assert project.annotations.get(first).status is AnnotationStatus.OPEN
    assert ref_commits(project) == writes + 2


def test_a_reply_has_no_status_of_its_own(project: Project) -> None:
    reply = project.annotations.reply(comment(project), "Hm.")
    before = ref_head(project)
    with pytest.raises(AnnotationError, match="status of its thread"):
        project.annotations.set_status(reply.id, "resolved")
    assert ref_head(project) == before


@pytest.mark.parametrize("status", ["done", "", "OPEN ", 3, None])
def test_invalid_status_is_refused(project: Project, status: object) -> None:
    first = comment(project)
    before = ref_head(project)
    with pytest.raises(InvalidAnnotation) as caught:
        project.annotations.set_status(first, status)  # type: ignore[arg-type]
    assert caught.value.field == "status"
    assert ref_head(project) == before
    if status is not None:
        with pytest.raises(InvalidAnnotation):
            project.annotations.list(status=status)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "unknown", ["nope", "", "00000000-0000-4000-8000-000000000000", "../../config"]
)
def test_unknown_ids_are_clear_errors_that_change_nothing(project: Project, unknown: str) -> None:
    comment(project)
    before = ref_head(project)
    for call in (
        lambda: project.annotations.get(unknown),
        lambda: project.annotations.thread(unknown),
        lambda: project.annotations.anchor(unknown),
        lambda: project.annotations.reply(unknown, "x"),
        lambda: project.annotations.set_status(unknown, "resolved"),
        lambda: project.annotations.apply_suggestion(unknown),
    ):
        with pytest.raises(UnknownAnnotation) as caught:
            call()
        assert caught.value.annotation_id == unknown
    assert ref_head(project) == before


def test_list_by_file_and_position(project: Project) -> None:
    text2 = project.read("chapter-02.md")
    start, end = span(text2, "Mr. Bingley")
    in_two = project.annotations.create("chapter-02.md", start, end, kind="comment", body="x")
    later = comment(project, "Mr. Bennet made no answer")
    earlier = comment(project, OPENING)
    assert [t.id for t in project.annotations.list()] == [earlier, later, in_two.id]
    assert [t.id for t in project.annotations.list(path="chapter-02.md")] == [in_two.id]
    assert project.annotations.list(path="chapter-03.md") == []


# -- anchoring --------------------------------------------------------------------------


def test_anchor_of_untouched_text_is_where_it_was(project: Project) -> None:
    made = project.annotations.get(comment(project, "Netherfield Park"))
    anchor = project.annotations.anchor(made)
    assert (anchor.found, anchor.path, anchor.range, anchor.moved) == (True, CH1, made.range, False)
    assert project.annotations.anchor(made.id) == anchor


def test_anchor_follows_edits_before_the_quote(project: Project) -> None:
    made = project.annotations.get(comment(project, "Netherfield Park"))
    added = paragraphs(project.read("chapter-02.md"))[1] + "\n\n"
    text = project.read(CH1)
    write(project, {CH1: text[:12] + added + text[12:]})  # unsaved: the disk text counts
    anchor = project.annotations.anchor(made)
    assert anchor.found and anchor.moved and anchor.range is not None
    assert anchor.range.start == made.range.start + len(added)
    assert anchor.range.start_line == made.range.start_line + added.count("\n")
    current = project.read(CH1)
    assert current[anchor.range.start : anchor.range.end] == "Netherfield Park"
    project.save()
    assert project.annotations.anchor(made) == anchor


def test_anchor_picks_the_same_occurrence_of_a_repeated_quote(project: Project) -> None:
    text = project.read(CH1)
    start, end = span(text, "Mr. Bennet", nth=2)
    made = project.annotations.create(CH1, start, end, kind="comment", body="third")
    added = "\n\n".join(paragraphs(project.read("chapter-03.md"))[1:4]) + "\n\n"
    new = text[:12] + added + text[12:]
    write(project, {CH1: new})
    places = [span(new, "Mr. Bennet", n)[0] for n in range(new.count("Mr. Bennet"))]
    right = start + len(added)
    # Going by the old offset alone would pick another occurrence:
    assert min(places, key=lambda p: abs(p - start)) != right
    anchor = project.annotations.anchor(made)
    assert anchor.found and anchor.range is not None
    assert anchor.range.start == right


def test_anchor_flags_a_rewritten_quote(project: Project) -> None:
    made = project.annotations.get(comment(project, "Netherfield Park is let at last"))
    text = project.read(CH1)
    write(project, {CH1: text.replace("is let at last", "has a tenant at last")})
    anchor = project.annotations.anchor(made)
    assert (anchor.found, anchor.range, anchor.path) == (False, None, CH1)
    assert anchor.reason == "the quoted text was changed or removed"


def test_anchor_follows_a_renamed_file(project: Project) -> None:
    made = project.annotations.get(comment(project, "Netherfield Park"))
    text = project.read(CH1)
    write(project, {CH1: None, "part-one/opening.md": "Preface.\n\n" + text})
    anchor = project.annotations.anchor(made)
    assert (anchor.found, anchor.path, anchor.moved) == (True, "part-one/opening.md", True)
    assert anchor.range is not None
    assert anchor.range.start == made.range.start + len("Preface.\n\n")
    project.save()
    assert project.annotations.anchor(made) == anchor


def test_anchor_of_a_deleted_file_is_flagged(project: Project) -> None:
    made = project.annotations.get(comment(project, "Netherfield Park"))
    write(project, {CH1: None})
    project.save()
    anchor = project.annotations.anchor(made)
    assert (anchor.found, anchor.range) == (False, None)
    assert anchor.reason == "the file was deleted or renamed"


def test_a_rename_into_several_files_is_ambiguous(project: Project) -> None:
    made = project.annotations.get(comment(project, "Netherfield Park"))
    text = project.read(CH1)
    write(project, {CH1: None, "a.md": text, "b.md": text})
    anchor = project.annotations.anchor(made)
    assert not anchor.found
    assert anchor.reason is not None and "several" in anchor.reason


# -- applying suggestions ---------------------------------------------------------------


def suggest(project: Project, phrase: str, proposed: str) -> str:
    start, end = span(project.read(CH1), phrase)
    made = project.annotations.create(
        CH1, start, end, kind="suggestion", body="Sharper.", suggestion=proposed
    )
    return made.id


def test_apply_suggestion_saves_the_change_and_accepts_it(project: Project) -> None:
    sid = suggest(project, "universally acknowledged", "widely believed")
    before = project.read(CH1)
    saved = project.annotations.apply_suggestion(sid)
    expected = before.replace("universally acknowledged", "widely believed", 1)
    assert project.read(CH1) == expected == project.read(CH1, at=saved.id)
    assert project.head_id() == saved.id.encode()
    assert (saved.words_added, saved.words_removed) == (2, 2)
    assert "widely believed" in saved.summary
    assert project.status().clean
    assert project.annotations.get(sid).status is AnnotationStatus.ACCEPTED
    with pytest.raises(AnnotationError, match="accepted, not open"):
        project.annotations.apply_suggestion(sid)


def test_apply_suggestion_after_edits_before_the_quote(project: Project) -> None:
    sid = suggest(project, "Netherfield Park", "Netherfield Hall")
    write(project, {CH1: project.read(CH1).replace("# Chapter 1", "# Chapter One: A Tenant")})
    project.save()
    project.annotations.apply_suggestion(sid)
    text = project.read(CH1)
    assert text.startswith("# Chapter One: A Tenant")
    assert "Netherfield Hall is let at last" in text
    assert text.count("Netherfield Hall") == 1


def test_an_empty_suggestion_deletes_the_quote(project: Project) -> None:
    sid = suggest(project, " impatiently", "")
    project.annotations.apply_suggestion(sid)
    assert "cried his wife.\n" in project.read(CH1)


def test_apply_suggestion_refuses_a_vanished_quote(project: Project) -> None:
    sid = suggest(project, "Netherfield Park", "Netherfield Hall")
    write(project, {CH1: project.read(CH1).replace("Netherfield Park", "the Park")})
    saved = project.save()
    ref = ref_head(project)
    with pytest.raises(QuoteNotFound) as caught:
        project.annotations.apply_suggestion(sid)
    assert (caught.value.annotation_id, caught.value.quote) == (sid, "Netherfield Park")
    assert project.head_id() == saved.id.encode()
    assert ref_head(project) == ref
    assert project.annotations.get(sid).status is AnnotationStatus.OPEN


def test_apply_suggestion_refuses_unsaved_changes(project: Project) -> None:
    sid = suggest(project, "Netherfield Park", "Netherfield Hall")
    unsaved = project.read(CH1) + "\nA new line not saved yet.\n"
    write(project, {CH1: unsaved})
    head, ref = project.head_id(), ref_head(project)
    with pytest.raises(UnsavedChanges) as caught:
        project.annotations.apply_suggestion(sid)
    assert caught.value.paths == [CH1]
    assert project.read(CH1) == unsaved
    assert (project.head_id(), ref_head(project)) == (head, ref)


def test_only_a_suggestion_can_be_applied(project: Project) -> None:
    cid = comment(project)
    before = (project.head_id(), ref_head(project))
    with pytest.raises(AnnotationError, match="only a suggestion"):
        project.annotations.apply_suggestion(cid)
    assert (project.head_id(), ref_head(project)) == before


def test_a_rejected_suggestion_is_not_applied(project: Project) -> None:
    sid = suggest(project, "Netherfield Park", "Netherfield Hall")
    project.annotations.set_status(sid, "rejected")
    with pytest.raises(AnnotationError, match="rejected, not open"):
        project.annotations.apply_suggestion(sid)
    assert "Netherfield Hall" not in project.read(CH1)


def test_a_failed_save_puts_the_text_back(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = suggest(project, "Netherfield Park", "Netherfield Hall")
    before = (project.read(CH1), project.head_id(), ref_head(project))

    def moved(*args: object, **kwargs: object) -> None:
        raise SaveConflict("old", "new")

    monkeypatch.setattr(project, "save", moved)
    with pytest.raises(SaveConflict):
        project.annotations.apply_suggestion(sid)
    assert (project.read(CH1), project.head_id(), ref_head(project)) == before
    assert project.annotations.get(sid).status is AnnotationStatus.OPEN
