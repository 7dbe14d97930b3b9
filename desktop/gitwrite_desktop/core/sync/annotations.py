"""Merging the annotations ref: the union of both sides' files.

Every annotation, reply and status change is a new file on ``refs/gitwrite/annotations``
and is never rewritten (`gitwrite.annotation_store`), so two copies of the ref that
diverged merge by taking every file of both: a merge commit with both as parents. The
same path with different content would mean someone rewrote a record; the writer's own
copy is kept then (it is logged), and the server's stays in the history.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dulwich.objects import Commit, ObjectID

from gitwrite_desktop.core.sync.treemerge import make_commit, write_tree

if TYPE_CHECKING:
    from gitwrite.project import Project

log = logging.getLogger(__name__)

MESSAGE = "Merge the annotations from the server"


def union_merge(project: Project, ours: ObjectID, theirs: ObjectID) -> ObjectID:
    """A new commit (not referenced yet) holding every file of ``ours`` and ``theirs``."""
    store = project.repo.object_store
    our_commit, their_commit = store[ours], store[theirs]
    assert isinstance(our_commit, Commit) and isinstance(their_commit, Commit)
    entries = project.tree_entries(their_commit.tree)
    for path, entry in project.tree_entries(our_commit.tree).items():
        if path in entries and entries[path][1] != entry[1]:
            log.warning("annotation file %s differs between here and the server; kept ours", path)
        entries[path] = entry
    return make_commit(project, write_tree(project, entries), [ours, theirs], MESSAGE)
