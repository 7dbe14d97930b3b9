"""A repository's saves as the REST API reads and makes them (shared by the features).

- `reader`: `RepoReader` resolves what a writer names (a save id, an exploration, a
  milestone) and reads commits, folders and files from the database in the caller's unit
  of work.
- `writer`: new trees and commits (`TreeWriter`, `make_commit`) and `apply`, which hands
  them to the sync service's push: the same checks, transaction, event, indexing job and
  live notice as a desktop's push.
- `guards`: the role a ref needs, checked before any work.
"""

from gitwrite_sync.domain.content.guards import require_ref
from gitwrite_sync.domain.content.reader import (
    FULL_ID,
    Entry,
    RepoReader,
    Resolved,
    branch_name,
    checked_path,
    is_dir,
    shown_name,
)
from gitwrite_sync.domain.content.writer import (
    FILE_MODE,
    TreeWriter,
    apply,
    author_of,
    make_commit,
    whole_pack,
)

__all__ = [
    "FILE_MODE",
    "FULL_ID",
    "Entry",
    "RepoReader",
    "Resolved",
    "TreeWriter",
    "apply",
    "author_of",
    "branch_name",
    "checked_path",
    "is_dir",
    "make_commit",
    "require_ref",
    "shown_name",
    "whole_pack",
]
