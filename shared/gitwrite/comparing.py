"""Word-level comparison of two versions of a project: two saves, two explorations, or a
save and the text on disk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitwrite import prose
from gitwrite.model import ChangeKind, FileComparison
from gitwrite.paths import check_path
from gitwrite.texts import decode_text
from gitwrite.worktree import scan

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dulwich.objects import ObjectID

    from gitwrite.project import Project

WORKING = None
"""Pass as ``new`` to compare with the text on disk."""


class Comparisons:
    """``project.comparisons.compare(old, new)``: what changed, word by word, file by file."""

    def __init__(self, project: Project) -> None:
        self.project = project

    def _version(self, revision: str | None) -> dict[str, tuple[ObjectID, bytes | None]]:
        """Path → (blob id, content if already in hand) for a save, or the disk when None."""
        project = self.project
        if revision is not None:
            entries = project.tree_entries(project.commit(revision).tree)
            return {p: (sha, None) for p, (_, sha) in entries.items()}
        disk = scan(project.repo, project.repo.open_index(), project.head_entries())
        return {p: (f.sha, f.data) for p, f in disk.items()}

    def _content(self, path: str, entry: tuple[ObjectID, bytes | None], on_disk: bool) -> bytes:
        sha, data = entry
        if data is not None:
            return data
        if on_disk:
            return (self.project.root / path).read_bytes()
        return self.project._blob_text(sha)

    def compare(
        self, old: str | None, new: str | None = WORKING, paths: Iterable[str] | None = None
    ) -> list[FileComparison]:
        """Every file that differs between ``old`` and ``new`` (a save, exploration or
        milestone; ``new`` defaults to the text on disk), with word-level runs."""
        before, after = self._version(old or "HEAD"), self._version(new)
        wanted = {check_path(p) for p in paths} if paths is not None else None
        result = []
        for path in sorted(set(before) | set(after)):
            if wanted is not None and path not in wanted:
                continue
            if path in before and path in after and before[path][0] == after[path][0]:
                continue
            old_data = self._content(path, before[path], False) if path in before else b""
            new_data = self._content(path, after[path], new is None) if path in after else b""
            kind = (
                ChangeKind.ADDED
                if path not in before
                else ChangeKind.DELETED
                if path not in after
                else ChangeKind.MODIFIED
            )
            old_text, new_text = decode_text(old_data), decode_text(new_data)
            if old_text is None or new_text is None:
                result.append(FileComparison(path, kind, binary=True))
                continue
            runs = prose.compare_text(old_text, new_text)
            stats = prose.stats_of(runs)
            result.append(FileComparison(path, kind, runs, stats.added, stats.removed))
        return result
