"""Errors the engine raises, each meant to be shown to a writer as it is.

::

    GitWriteError
    ├── NotAProject            the folder holds no repository
    ├── ProjectExists          creating a project where one already is
    ├── InvalidPath            absolute, escaping, ``.git`` or otherwise unsafe file path
    ├── InvalidName            an exploration or milestone name git cannot store
    ├── UnknownRevision        a save, exploration or milestone that does not exist
    │   └── UnknownExploration     no exploration of that name
    ├── UnknownFile            a file that is not in the given save
    ├── NothingToSave          nothing changed since the last save
    ├── UnsavedChanges         the operation would lose unsaved work
    ├── SaveConflict           the exploration moved while saving (another process saved)
    ├── ExplorationError       an exploration operation that cannot be done as asked
    │   ├── ExplorationExists      the name is taken (by an exploration or a milestone)
    │   └── NotMerged              deleting it would lose saves merged nowhere
    ├── MilestoneError         a milestone operation that cannot be done as asked
    │   ├── MilestoneExists        the name is taken (by a milestone or an exploration)
    │   └── UnknownMilestone       no milestone of that name
    ├── MergeError             a merge that cannot start, be completed or be aborted
    │   ├── MergeInProgress        another merge waits to be completed or aborted
    │   ├── NoMergeInProgress      nothing to complete or abort
    │   └── UnresolvedConflicts    conflict markers remain in conflicted files
    └── AnnotationError        an annotation operation that cannot be done as asked
        ├── UnknownAnnotation      no annotation with that id
        ├── InvalidAnnotation      bad kind, status, body or suggestion
        ├── InvalidRange           the range is not inside the file's text at that save
        ├── UnreadableAnnotation   the stored JSON of an annotation is not valid
        ├── QuoteNotFound          the quoted text is no longer in the file
        └── AnnotationsMoved       the annotations ref moved while writing (lost race)

Third-party exceptions (dulwich, OS errors about the repository) are translated at the
boundary with ``raise ... from exc``.
"""

from __future__ import annotations


class GitWriteError(Exception):
    """Base of every error the engine raises on purpose."""


class NotAProject(GitWriteError):
    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is not a GitWrite project (no repository found)")
        self.path = path


class ProjectExists(GitWriteError):
    def __init__(self, path: str) -> None:
        super().__init__(f"{path} already holds a project")
        self.path = path


class InvalidPath(GitWriteError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"invalid file path {path!r}: {reason}")
        self.path = path
        self.reason = reason


class InvalidName(GitWriteError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"invalid name {name!r}: {reason}")
        self.name = name
        self.reason = reason


class UnknownRevision(GitWriteError):
    def __init__(self, revision: str) -> None:
        super().__init__(f"no save, exploration or milestone called {revision!r}")
        self.revision = revision


class UnknownExploration(UnknownRevision):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.args = (f"no exploration called {name!r}",)
        self.name = name


class UnknownFile(GitWriteError):
    def __init__(self, path: str, revision: str) -> None:
        super().__init__(f"{path} does not exist in {revision}")
        self.path = path
        self.revision = revision


class NothingToSave(GitWriteError):
    def __init__(self) -> None:
        super().__init__("nothing to save: no file changed since the last save")


class UnsavedChanges(GitWriteError):
    def __init__(self, paths: list[str], action: str) -> None:
        listed = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        super().__init__(f"cannot {action}: unsaved changes in {listed} would be lost; save first")
        self.paths = paths
        self.action = action


class SaveConflict(GitWriteError):
    def __init__(self, expected: str | None, actual: str | None) -> None:
        super().__init__("the exploration moved while saving; try again")
        self.expected = expected
        self.actual = actual


class ExplorationError(GitWriteError):
    """An exploration operation that cannot be done as asked."""


class ExplorationExists(ExplorationError):
    def __init__(self, name: str, taken_by: str) -> None:
        super().__init__(f"cannot call an exploration {name!r}: the name is taken by {taken_by}")
        self.name = name
        self.taken_by = taken_by


class NotMerged(ExplorationError):
    def __init__(self, name: str, into: list[str]) -> None:
        super().__init__(
            f"exploration {name!r} has saves that are not in "
            + " or ".join(repr(n) for n in into)
            + "; merge it first, or delete it anyway (its saves will be lost)"
        )
        self.name = name
        self.into = into


class MilestoneError(GitWriteError):
    """A milestone operation that cannot be done as asked."""


class MilestoneExists(MilestoneError):
    def __init__(self, name: str, tag: str, taken_by: str) -> None:
        super().__init__(f"cannot call a milestone {name!r}: the name is taken by {taken_by}")
        self.name = name
        self.tag = tag
        self.taken_by = taken_by


class UnknownMilestone(MilestoneError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no milestone called {name!r}")
        self.name = name


class MergeError(GitWriteError):
    """A merge that cannot start, be completed or be aborted as asked."""


class MergeInProgress(MergeError):
    def __init__(self, their_name: str, action: str) -> None:
        super().__init__(
            f"cannot {action}: the merge of {their_name!r} is in progress; "
            "complete it or abort it first"
        )
        self.their_name = their_name
        self.action = action


class NoMergeInProgress(MergeError):
    def __init__(self, action: str) -> None:
        super().__init__(f"cannot {action}: no merge is in progress")
        self.action = action


class UnresolvedConflicts(MergeError):
    def __init__(self, paths: list[str]) -> None:
        super().__init__(
            "conflict markers (<<<<<<< ... >>>>>>>) remain in "
            + ", ".join(paths)
            + "; choose the text to keep in each, then complete the merge"
        )
        self.paths = paths


class AnnotationError(GitWriteError):
    """An annotation operation that cannot be done as asked."""


class UnknownAnnotation(AnnotationError):
    def __init__(self, annotation_id: str) -> None:
        super().__init__(f"no annotation with id {annotation_id!r}")
        self.annotation_id = annotation_id


class InvalidAnnotation(AnnotationError):
    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"invalid {field} {value!r}: {reason}")
        self.field = field
        self.value = value
        self.reason = reason


class InvalidRange(AnnotationError):
    def __init__(self, path: str, start: int, end: int, length: int, reason: str) -> None:
        super().__init__(f"cannot annotate {path} from {start} to {end}: {reason}")
        self.path = path
        self.start = start
        self.end = end
        self.length = length
        self.reason = reason


class UnreadableAnnotation(AnnotationError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"the stored annotation {path} cannot be read: {reason}")
        self.path = path
        self.reason = reason


class QuoteNotFound(AnnotationError):
    def __init__(self, annotation_id: str, path: str, quote: str) -> None:
        shown = quote if len(quote) <= 60 else quote[:57] + "..."
        super().__init__(f"the text {shown!r} cannot be found in {path} any more")
        self.annotation_id = annotation_id
        self.path = path
        self.quote = quote


class AnnotationsMoved(AnnotationError):
    def __init__(self, expected: str | None, actual: str | None) -> None:
        super().__init__("the annotations changed while writing (another process wrote); try again")
        self.expected = expected
        self.actual = actual
