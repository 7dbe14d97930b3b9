"""History: saves newest first, with the words each added and removed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from gitwrite.model import SaveInfo
from gitwrite.paths import check_path
from gitwrite.revisions import peel_to_commit
from gitwrite.trailers import split_word_trailer

if TYPE_CHECKING:
    from dulwich.objects import Commit, ObjectID

    from gitwrite.project import Project


class History:
    """Reads saves for one project; caches word counts of saves made by other tools."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._foreign_words: dict[ObjectID, tuple[int, int]] = {}

    def info(self, commit: Commit) -> SaveInfo:
        """A commit as the writer sees a save."""
        message, words = split_word_trailer(commit.message.decode("utf-8", "replace"))
        if words is None:
            words = self._words_of(commit)
        name, _, email = commit.author.decode("utf-8", "replace").partition(" <")
        tz = timezone(timedelta(seconds=commit.author_timezone))
        return SaveInfo(
            id=commit.id.decode(),
            message=message,
            author=name,
            email=email.rstrip(">"),
            time=datetime.fromtimestamp(commit.author_time, tz),
            parents=tuple(p.decode() for p in commit.parents),
            words_added=words[0],
            words_removed=words[1],
        )

    def _words_of(self, commit: Commit) -> tuple[int, int]:
        """Words added and removed by a save made elsewhere (no trailer): diffed once, cached."""
        cached = self._foreign_words.get(commit.id)
        if cached is None:
            parent_tree = (
                peel_to_commit(self.project.repo, commit.parents[0]).tree
                if commit.parents
                else None
            )
            before, after = (
                self.project.tree_entries(parent_tree),
                self.project.tree_entries(commit.tree),
            )
            added = removed = 0
            for path in set(before) | set(after):
                if before.get(path) == after.get(path):
                    continue
                old = before[path][1] if path in before else None
                new = after[path][1] if path in after else None
                change = self.project._change(path, old, new)
                added, removed = added + change.words_added, removed + change.words_removed
            cached = self._foreign_words[commit.id] = (added, removed)
        return cached

    def list(
        self,
        limit: int = 50,
        *,
        skip: int = 0,
        start: str | None = None,
        path: str | None = None,
    ) -> list[SaveInfo]:
        """Saves newest first, ``limit`` at a time after skipping ``skip``; optionally only
        those that changed ``path``, and starting from another exploration or save."""
        if self.project.head_id() is None and start is None:
            return []
        include = [self.project.commit(start).id]
        paths = [check_path(path).encode()] if path is not None else None
        walker = self.project.repo.get_walker(
            include=include, paths=paths, max_entries=skip + limit
        )
        entries = [entry.commit for entry in walker][skip:]
        return [self.info(c) for c in entries]
