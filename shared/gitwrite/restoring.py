"""Restore (old content as a new save) and undo (revert one save), never rewriting history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gitwrite import prose
from gitwrite.errors import MergeError, NothingToSave
from gitwrite.paths import check_path
from gitwrite.revisions import peel_to_commit
from gitwrite.texts import decode_text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dulwich.objects import ObjectID

    from gitwrite.model import SaveInfo
    from gitwrite.project import Project

_CONFLICT = object()


def restore(
    project: Project, at: str, paths: Iterable[str] | None = None, message: str | None = None
) -> SaveInfo:
    """Bring back files (or the whole project) as they were at a save, as a NEW save."""
    project.refuse_during_merge("restore")
    commit = project.commit(at)
    target = project.tree_entries(commit.tree)
    head = project.head_entries()
    wanted = sorted({check_path(p) for p in paths}) if paths is not None else None
    affected = wanted if wanted is not None else sorted(set(target) | set(head))
    project.require_saved("restore", affected)
    writes = {
        p: (project._blob_text(target[p][1]) if p in target else None)
        for p in affected
        if target.get(p) != head.get(p)
    }
    if not writes:
        raise NothingToSave()
    project.write_files(writes)
    what = ", ".join(wanted) if wanted else "the project"
    when = datetime.fromtimestamp(commit.author_time, UTC).strftime("%d %b %Y %H:%M")
    default = f"Restore {what} to the save of {when} ({commit.id.decode()[:8]})"
    return project.save(message or default, paths=list(writes))


def revert(project: Project, save: str, message: str | None = None) -> SaveInfo:
    """Undo one save: apply the opposite of its changes on top of the current text."""
    project.refuse_during_merge("undo a save")
    commit = project.commit(save)
    parent_tree = peel_to_commit(project.repo, commit.parents[0]).tree if commit.parents else None
    before, after = project.tree_entries(parent_tree), project.tree_entries(commit.tree)
    head = project.head_entries()
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    project.require_saved("undo this save", changed)
    writes: dict[str, bytes | None] = {}
    conflicted: list[str] = []
    for path in changed:
        result = _reverse_one(project, before.get(path), after.get(path), head.get(path))
        if result is _CONFLICT:
            conflicted.append(path)
        elif result != (project._blob_text(head[path][1]) if path in head else None):
            writes[path] = result  # type: ignore[assignment]
    if conflicted:
        raise MergeError(
            "cannot undo this save automatically: later saves changed the same text in "
            + ", ".join(conflicted)
        )
    if not writes:
        raise NothingToSave()
    project.write_files(writes)
    summary = project._save_info(commit).summary
    return project.save(message or f'Undo "{summary}"', paths=list(writes))


def _reverse_one(
    project: Project,
    before: tuple[int, ObjectID] | None,
    after: tuple[int, ObjectID] | None,
    head: tuple[int, ObjectID] | None,
) -> bytes | object | None:
    """The current text of a file with one save's change to it taken back."""
    if head == after:
        return project._blob_text(before[1]) if before is not None else None
    if head == before:
        return project._blob_text(head[1]) if head is not None else None
    if head is None or after is None or before is None:
        return _CONFLICT
    texts = [decode_text(project._blob_text(e[1])) for e in (after, head, before)]
    if any(t is None for t in texts):
        return _CONFLICT
    base, ours, theirs = (t for t in texts if t is not None)
    merged = prose.merge_text(base, ours, theirs)
    return merged.text.encode("utf-8") if merged.clean else _CONFLICT
