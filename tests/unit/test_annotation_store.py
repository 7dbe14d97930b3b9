"""The annotations ref: layout, validation on read, compare-and-swap, conflict-free merges."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from dulwich.object_store import commit_tree_changes, iter_tree_contents
from dulwich.objects import Blob, Commit, ObjectID, Tree

from gitwrite.annotation_store import REF, Annotation, AnnotationStatus, StatusChange, encode
from gitwrite.errors import AnnotationsMoved, UnknownAnnotation, UnreadableAnnotation
from gitwrite.project import Project
from tests.builders import make_project
from tests.corpus import chapters

CH1 = "chapter-01.md"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "novel", dict(chapters()[:2]))


def annotate(project: Project, body: str = "A comment.") -> Annotation:
    return project.annotations.create(CH1, 14, 40, kind="comment", body=body)


def files_on_ref(project: Project, head: ObjectID | None = None) -> dict[str, ObjectID]:
    commit = project.repo.object_store[head or project.repo.refs[REF]]
    assert isinstance(commit, Commit)
    return {
        e.path.decode(): e.sha
        for e in iter_tree_contents(project.repo.object_store, commit.tree)
        if e.path is not None and e.sha is not None
    }


def commit_files(project: Project, parents: list[ObjectID], files: dict[str, bytes]) -> ObjectID:
    """A commit on the annotations ref adding raw files (what a buggy client might push)."""
    store = project.repo.object_store
    base = Tree()
    if parents:
        parent = store[parents[0]]
        assert isinstance(parent, Commit)
        tree = store[parent.tree]
        assert isinstance(tree, Tree)
        base = Tree.from_string(tree.as_raw_string())
    changes: list[tuple[bytes, int | None, ObjectID | None]] = []
    for path, data in files.items():
        blob = Blob.from_string(data)
        store.add_object(blob)
        changes.append((path.encode(), 0o100644, blob.id))
    commit = Commit()
    commit.tree = commit_tree_changes(store, base, changes)
    commit.parents = parents
    commit.author = commit.committer = b"Someone <someone@example.com>"
    commit.author_time = commit.commit_time = int(time.time())
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = b"test\n"
    store.add_object(commit)
    project.repo.refs[REF] = commit.id
    return commit.id


def merge(project: Project, ours: ObjectID, theirs: ObjectID) -> ObjectID:
    """Merge two annotation commits as a union of files; fails on any path conflict."""
    mine, other = files_on_ref(project, ours), files_on_ref(project, theirs)
    clashes = {p for p in set(mine) & set(other) if mine[p] != other[p]}
    assert not clashes, clashes
    added = {p: project.repo.object_store[s].as_raw_string() for p, s in other.items()}
    return commit_files(project, [ours, theirs], {p: d for p, d in added.items() if p not in mine})


def test_layout_one_file_per_annotation_reply_and_status_change(project: Project) -> None:
    made = annotate(project)
    reply = project.annotations.reply(made.id, "A reply.")
    project.annotations.set_status(made.id, "resolved")
    paths = sorted(files_on_ref(project))
    change = [p for p in paths if p.startswith("status/")]
    assert len(change) == 1
    assert change[0].startswith(f"status/{made.id[:2]}/{made.id}/")
    assert sorted(set(paths) - set(change)) == sorted(
        [f"annotations/{made.id[:2]}/{made.id}.json", f"annotations/{reply.id[:2]}/{reply.id}.json"]
    )
    blob = project.repo.object_store[files_on_ref(project)[change[0]]]
    record = msgspec.json.decode(blob.as_raw_string())
    assert record["type"] == "status" and record["annotation"] == made.id


def test_offline_status_changes_merge_without_conflict(project: Project) -> None:
    made = annotate(project)
    base = project.repo.refs[REF]
    project.annotations.set_status(made.id, "rejected")
    project.annotations.reply(made.id, "Ours.")
    ours = project.repo.refs[REF]
    project.repo.refs[REF] = base  # a second writer, offline, from the same start
    project.annotations.set_status(made.id, "resolved")
    project.annotations.reply(made.id, "Theirs.")
    theirs = project.repo.refs[REF]
    merged = merge(project, ours, theirs)
    assert project.repo.refs[REF] == merged
    # Both changes kept; the later one (theirs) wins, on every replica alike.
    assert project.annotations.get(made.id).status is AnnotationStatus.RESOLVED
    assert len([p for p in files_on_ref(project) if p.startswith("status/")]) == 2
    assert [r.body for r in project.annotations.list()[0].replies] == ["Ours.", "Theirs."]
    # A change made after seeing both supersedes both.
    changed = project.annotations.set_status(made.id, "open")
    assert changed.status is AnnotationStatus.OPEN
    assert project.annotations.get(made.id).status is AnnotationStatus.OPEN


def test_a_change_that_saw_another_wins_whatever_the_clocks_say(project: Project) -> None:
    made = annotate(project)
    now = datetime.now().astimezone()
    first = StatusChange(
        id=str(uuid.uuid4()),
        annotation=made.id,
        status=AnnotationStatus.RESOLVED,
        author=made.author,
        time=now,
    )
    later_but_slow_clock = StatusChange(
        id=str(uuid.uuid4()),
        annotation=made.id,
        status=AnnotationStatus.REJECTED,
        author=made.author,
        time=now - timedelta(hours=3),
        supersedes=(first.id,),
    )
    store = project.annotations.store
    store.write(store.head(), [first, later_but_slow_clock], "two changes")
    assert project.annotations.get(made.id).status is AnnotationStatus.REJECTED


def test_a_lost_race_raises_and_leaves_the_ref_alone(project: Project) -> None:
    annotate(project)
    store = project.annotations.store
    stale = store.head()
    other = Project.open(project.root)
    annotate(other, "Written by another process meanwhile.")
    current = store.head()
    assert current != stale
    change = StatusChange(
        id=str(uuid.uuid4()),
        annotation=str(uuid.uuid4()),
        status=AnnotationStatus.RESOLVED,
        author=project.author,
        time=datetime.now().astimezone(),
    )
    with pytest.raises(AnnotationsMoved) as caught:
        store.write(stale, [change], "late")
    assert caught.value.expected == stale.decode()  # type: ignore[union-attr]
    assert caught.value.actual == current.decode()  # type: ignore[union-attr]
    assert store.head() == current


def test_a_lost_race_through_the_api(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    made = annotate(project)
    store = project.annotations.store
    stale = store.snapshot()
    annotate(Project.open(project.root), "meanwhile")
    current = store.head()
    monkeypatch.setattr(store, "snapshot", lambda: stale)
    with pytest.raises(AnnotationsMoved):
        project.annotations.set_status(made.id, "resolved")
    assert store.head() == current


def test_the_first_write_refuses_to_overwrite_a_ref_made_meanwhile(project: Project) -> None:
    store = project.annotations.store
    annotate(Project.open(project.root))
    made = store.head()
    change = StatusChange(
        id=str(uuid.uuid4()),
        annotation=str(uuid.uuid4()),
        status=AnnotationStatus.RESOLVED,
        author=project.author,
        time=datetime.now().astimezone(),
    )
    with pytest.raises(AnnotationsMoved):
        store.write(None, [change], "thought it was the first")
    assert store.head() == made


def test_bad_files_on_the_ref_are_skipped_with_a_warning(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    good = annotate(project)
    bad_json = "ab" + str(uuid.uuid4())[2:]
    bad_shape = str(uuid.uuid4())
    misfiled = str(uuid.uuid4())
    wrong_quote = str(uuid.uuid4())
    valid = msgspec.json.decode(encode(good))
    commit_files(
        project,
        [project.repo.refs[REF]],
        {
            f"annotations/ab/{bad_json}.json": b"{not json",
            f"annotations/{bad_shape[:2]}/{bad_shape}.json": b'{"type": "annotation"}',
            f"annotations/{misfiled[:2]}/{misfiled}.json": encode(good),
            f"annotations/{wrong_quote[:2]}/{wrong_quote}.json": msgspec.json.encode(
                valid | {"id": wrong_quote, "quote": "too short"}
            ),
            "README.txt": b"files of other tools are ignored",
        },
    )
    with caplog.at_level(logging.WARNING, logger="gitwrite.annotation_store"):
        threads = project.annotations.list()
    assert [t.id for t in threads] == [good.id]
    problems = {p.path.rsplit("/", 1)[1][:-5]: p.reason for p in project.annotations.problems()}
    assert set(problems) == {bad_json, bad_shape, misfiled, wrong_quote}
    assert problems[misfiled] == "the file's name does not match its id"
    assert "quote's length" in problems[wrong_quote]
    assert len([r for r in caplog.records if "skipping annotation file" in r.message]) == 4
    with pytest.raises(UnreadableAnnotation) as caught:
        project.annotations.get(bad_json)
    assert caught.value.path == f"annotations/ab/{bad_json}.json"
    with pytest.raises(UnreadableAnnotation):
        project.annotations.get(misfiled)
    for unknown in ("", "ab", str(uuid.uuid4())):
        with pytest.raises(UnknownAnnotation):
            project.annotations.get(unknown)
    # Writing still works on top of a ref holding bad files.
    project.annotations.reply(good.id, "Still fine.")
    assert len(project.annotations.list()[0].replies) == 1


def test_records_from_a_newer_format_are_skipped(project: Project) -> None:
    good = annotate(project)
    newer = str(uuid.uuid4())
    data = msgspec.json.decode(encode(good)) | {"id": newer, "format": 2, "new_field": [1]}
    commit_files(
        project,
        [project.repo.refs[REF]],
        {f"annotations/{newer[:2]}/{newer}.json": msgspec.json.encode(data)},
    )
    assert [t.id for t in project.annotations.list()] == [good.id]
    assert [p.reason for p in project.annotations.problems()] == [
        "written by a newer version of GitWrite"
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time": "2024-01-01T10:00:00"}, "timezone"),
        ({"path": "../escape.md"}, "must not contain"),
        ({"kind": "praise"}, "Invalid enum value"),
        ({"range": {"start": 5, "end": 5, "start_line": 1, "end_line": 1}}, "end after"),
        ({"suggestion": "new words"}, "only a suggestion"),
        ({"save": "HEAD"}, "matching regex"),
    ],
)
def test_decoding_validates(project: Project, change: dict[str, object], message: str) -> None:
    data = msgspec.json.decode(encode(annotate(project))) | change
    with pytest.raises(msgspec.ValidationError, match=message):
        msgspec.json.decode(msgspec.json.encode(data), type=Annotation)
