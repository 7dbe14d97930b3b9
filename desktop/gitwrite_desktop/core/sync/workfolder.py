"""Moving the checked-out exploration to the server's save without touching unsaved work.

Only the files that differ between the two saves are written, and only their index
entries change. (`Project.checkout_tree` refreshes the index entry of every file of the
tree from its current stat, which would mark a file with unsaved changes as saved; it is
not used here.) The caller first checks that none of those files has unsaved changes.

Order, for a crash at any point: the files, then the branch, then the index. A crash
after the files leaves the server's text on disk as unsaved changes under the old save
(never the old text under the new save); a stale index entry only makes the next status
read that file again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dulwich.objects import Blob
from dulwich.refs import Ref

from gitwrite.worktree import DiskFile, index_entry

if TYPE_CHECKING:
    from dulwich.objects import ObjectID

    from gitwrite.project import Project
    from gitwrite.worktree import TreeEntries


def changed_paths(before: TreeEntries, after: TreeEntries) -> list[str]:
    """Paths whose content differs between two flattened trees."""
    return sorted(
        p
        for p in set(before) | set(after)
        if (before.get(p) or (0, None))[1] != (after.get(p) or (0, None))[1]
    )


def write_changes(project: Project, before: TreeEntries, after: TreeEntries) -> list[str]:
    """Write the files that differ from ``before`` to ``after`` (deleting the ones gone);
    returns their paths. Index untouched."""
    paths = changed_paths(before, after)
    store = project.repo.object_store
    contents: dict[str, bytes | None] = {}
    for path in paths:
        entry = after.get(path)
        if entry is None:
            contents[path] = None
            continue
        blob = store[entry[1]]
        assert isinstance(blob, Blob)
        contents[path] = blob.data
    project.write_files(contents)
    return paths


def index_paths(project: Project, after: TreeEntries, paths: list[str]) -> None:
    """Point the index entries of ``paths`` at ``after`` with the files' new stats."""
    index = project.repo.open_index()
    for path in paths:
        key = path.encode("utf-8", "surrogateescape")
        entry = after.get(path)
        if entry is None:
            if key in index:
                del index[key]
            continue
        st = (project.root / path).lstat()
        index[key] = index_entry(DiskFile(path, entry[0], entry[1], st))
    index.write()


def fast_forward(project: Project, ref: str, old: ObjectID, new: ObjectID) -> list[str] | None:
    """Move the checked-out branch ``ref`` from ``old`` to its descendant ``new`` and make
    the working folder follow; returns the files written, or None when the branch had
    moved meanwhile (nothing is changed then). Unsaved changes must have been checked."""
    before = project.tree_entries(project.commit(old.decode()).tree)
    after = project.tree_entries(project.commit(new.decode()).tree)
    if project.repo.refs[Ref(ref.encode())] != old:
        return None
    paths = write_changes(project, before, after)
    if not project.repo.refs.set_if_equals(Ref(ref.encode()), old, new):
        return None
    index_paths(project, after, paths)
    return paths
