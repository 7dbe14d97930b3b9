"""Errors the engine raises, each meant to be shown to a writer as it is.

::

    GitWriteError
    ├── NotAProject            the folder holds no repository
    ├── ProjectExists          creating a project where one already is
    ├── InvalidPath            absolute, escaping, ``.git`` or otherwise unsafe file path
    ├── InvalidName            an exploration or milestone name git cannot store
    ├── UnknownRevision        a save, exploration or milestone that does not exist
    ├── UnknownFile            a file that is not in the given save
    ├── NothingToSave          nothing changed since the last save
    ├── UnsavedChanges         the operation would lose unsaved work
    ├── SaveConflict           the exploration moved while saving (another process saved)
    ├── ExplorationError       exists already, is current, not merged...
    ├── MilestoneError         exists already...
    ├── MergeError             a merge is (or is not) in progress, or conflicts remain
    └── AnnotationError        unknown annotation, bad range, bad status...

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


class MilestoneError(GitWriteError):
    """A milestone operation that cannot be done as asked."""


class MergeError(GitWriteError):
    """A merge that cannot start, be completed or be aborted as asked."""


class AnnotationError(GitWriteError):
    """An annotation operation that cannot be done as asked."""
