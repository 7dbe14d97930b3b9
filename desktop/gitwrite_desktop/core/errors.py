"""Errors of the desktop core, each meant to be shown to the writer as it is.

They extend the engine's tree (`gitwrite.errors`), so an operation's failure is always a
`GitWriteError` whatever layer raised it::

    GitWriteError (gitwrite.errors)
    └── DesktopError
        ├── UnknownProject         no project with that id in the workspace
        ├── ProjectMissing         its folder moved or vanished, or holds no repository now
        ├── ProjectInUse           another GitWrite window or process has it open
        ├── ProjectBusy            another program holds a git lock file; try again
        ├── DiskError              the disk refused a read or write (full, permissions)
        ├── UnknownAccount         no account with that id in the workspace
        ├── InvalidAccount         a server address or email that cannot be used
        ├── WorkspaceError         the workspace file cannot be read or written
        ├── WorkspaceInUse         another GitWrite runs with the same app data folder
        ├── CredentialsError       tokens cannot be stored or read
        │   └── InsecureCredentials    the credentials file is readable by others
        └── UnexpectedError        a bug: any other exception, kept as ``original``

Cancelling an operation is not an error: see `gitwrite_desktop.core.worker.Cancelled`.
Third-party exceptions (sqlite3, dulwich, keyring, OS errors) are translated at the
boundary with ``raise ... from exc``.
"""

from __future__ import annotations

from gitwrite.errors import GitWriteError


class DesktopError(GitWriteError):
    """Base of every error the desktop core raises on purpose."""


class UnknownProject(DesktopError):
    def __init__(self, project_id: str) -> None:
        super().__init__(f"no project with id {project_id!r} in this workspace")
        self.project_id = project_id


class ProjectMissing(DesktopError):
    def __init__(self, project_id: str, path: str, reason: str) -> None:
        super().__init__(
            f"the project at {path} cannot be opened: {reason}; "
            "locate it where it is now, or forget it"
        )
        self.project_id = project_id
        self.path = path
        self.reason = reason


class ProjectInUse(DesktopError):
    def __init__(self, path: str) -> None:
        super().__init__(
            f"the project at {path} is open in another GitWrite window; close it there first"
        )
        self.path = path


class ProjectBusy(DesktopError):
    def __init__(self, path: str, lock: str) -> None:
        super().__init__(
            f"another program is writing to the project at {path} (it holds {lock}); "
            "try again in a moment"
        )
        self.path = path
        self.lock = lock


class DiskError(DesktopError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"the disk refused to read or write {path}: {reason}")
        self.path = path
        self.reason = reason


class UnknownAccount(DesktopError):
    def __init__(self, account_id: str) -> None:
        super().__init__(f"no account with id {account_id!r} in this workspace")
        self.account_id = account_id


class InvalidAccount(DesktopError):
    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(f"invalid {field} {value!r}: {reason}")
        self.field = field
        self.value = value
        self.reason = reason


class WorkspaceError(DesktopError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"the workspace file {path} cannot be used: {reason}")
        self.path = path
        self.reason = reason


class WorkspaceInUse(DesktopError):
    def __init__(self, folder: str) -> None:
        super().__init__(
            f"GitWrite is already running with the workspace in {folder}; switch to that window"
        )
        self.folder = folder


class CredentialsError(DesktopError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"sign-in details cannot be kept: {reason}")
        self.reason = reason


class InsecureCredentials(CredentialsError):
    def __init__(self, path: str, mode: int) -> None:
        super().__init__(
            f"{path} can be read by other users (permissions {mode:o}); "
            "it was not read: make it private (chmod 600) or delete it and sign in again"
        )
        self.path = path
        self.mode = mode


class UnexpectedError(DesktopError):
    """A bug: an exception nobody meant to raise, wrapped so the writer sees a message."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(f"something went wrong inside GitWrite: {original!r}")
        self.original = original
