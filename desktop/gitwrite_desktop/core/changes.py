"""What an operation changed, so each view refreshes only what it shows (Anki's OpChanges).

An operation's success carries a `Changes`: the file tree refreshes when ``files`` names
its project, the editor when it names the open file, history when a branch in ``refs``
moved, the annotations sidebar when ``annotations`` is not empty, and so on. Changes
combine with ``|``. Project ids are the workspace's (`ProjectEntry.id`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

FileKey = tuple[str, str]
"""(project id, project-relative path)."""
RefKey = tuple[str, str]
"""(project id, full ref name such as ``refs/heads/main`` or ``HEAD``)."""
AnnotationKey = tuple[str, str]
"""(project id, annotation id)."""


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed; empty by default.

    Attributes:
        workspace: the project list, accounts or shares changed.
        projects: every project something changed in (filled from the fields below too).
        files: files whose text in the working folder changed (added, edited, removed).
        refs: refs that moved, appeared or went: ``HEAD`` (switching explorations),
            branches (saves, explorations), tags (milestones), the annotations ref.
        annotations: annotations (or replies) added, or whose thread status changed.
        merge: projects where a merge began or ended.
        index: projects whose search index, word counts or words-per-day changed.
        sync: projects whose sync state changed.
    """

    workspace: bool = False
    projects: frozenset[str] = field(default_factory=frozenset)
    files: frozenset[FileKey] = field(default_factory=frozenset)
    refs: frozenset[RefKey] = field(default_factory=frozenset)
    annotations: frozenset[AnnotationKey] = field(default_factory=frozenset)
    merge: frozenset[str] = field(default_factory=frozenset)
    index: frozenset[str] = field(default_factory=frozenset)
    sync: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        touched = (
            set(self.projects)
            | {p for p, _ in self.files}
            | {p for p, _ in self.refs}
            | {p for p, _ in self.annotations}
            | self.merge
            | self.index
            | self.sync
        )
        object.__setattr__(self, "projects", frozenset(touched))

    def __or__(self, other: Changes) -> Changes:
        merged = {
            f.name: getattr(self, f.name) | getattr(other, f.name)
            for f in fields(self)
            if f.name != "workspace"
        }
        return Changes(workspace=self.workspace or other.workspace, **merged)

    def __bool__(self) -> bool:
        return self.workspace or bool(self.projects)

    def files_of(self, project_id: str) -> set[str]:
        return {path for p, path in self.files if p == project_id}

    def refs_of(self, project_id: str) -> set[str]:
        return {ref for p, ref in self.refs if p == project_id}

    def annotations_of(self, project_id: str) -> set[str]:
        return {a for p, a in self.annotations if p == project_id}

    @property
    def history(self) -> frozenset[str]:
        """Projects whose history views should refresh (a branch or ``HEAD`` moved)."""
        return frozenset(
            p for p, ref in self.refs if ref == "HEAD" or ref.startswith("refs/heads/")
        )


NOTHING = Changes()
