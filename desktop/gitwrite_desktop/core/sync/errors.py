"""Errors of the sync engine meant for the writer, in the desktop core's tree::

    GitWriteError (gitwrite.errors)
    └── DesktopError (gitwrite_desktop.core.errors)
        └── SyncProblem
            ├── SignedOut            no tokens for the account, or the server refused them
            ├── SignInRefused        a sign-in with a wrong email or password
            ├── ServerUnreachable    the server did not answer
            ├── ServerRefused        the server said no (``code``, ``message``)
            │   └── RepositoryTaken      sharing under a name already in use there
            ├── NothingToResolve     no server copy of that exploration to merge
            └── FolderNotEmpty       cloning into a folder that holds files already

The REST client's exceptions (`gitwrite.rest.RestError`) are translated into these
(`translate_rest`), and so are the sync client's (`gitwrite.client.SyncError`) where a
public call waits on one (a clone's fetch). Within background rounds the sync client's
errors become the share's status instead.
"""

from __future__ import annotations

from gitwrite.errors import GitWriteError
from gitwrite.rest import RestError
from gitwrite_desktop.core.errors import DesktopError


class SyncProblem(DesktopError):
    """Base of the sync engine's errors."""


class SignedOut(SyncProblem):
    def __init__(self, server_url: str, reason: str = "") -> None:
        because = f" ({reason})" if reason else ""
        super().__init__(f"you are signed out of {server_url}{because}: sign in again")
        self.server_url = server_url
        self.reason = reason


class SignInRefused(SyncProblem):
    """The server did not accept the email and password (the account stays as it was)."""

    def __init__(self, server_url: str, reason: str = "") -> None:
        because = f": {reason}" if reason else ""
        super().__init__(f"{server_url} did not accept that email and password{because}")
        self.server_url = server_url
        self.reason = reason


class ServerUnreachable(SyncProblem):
    def __init__(self, server_url: str, reason: str) -> None:
        super().__init__(f"{server_url} cannot be reached: {reason}")
        self.server_url = server_url
        self.reason = reason


class ServerRefused(SyncProblem):
    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"the server refused: {message} ({code})")
        self.code = code
        self.message = message
        self.status = status


class RepositoryTaken(ServerRefused):
    def __init__(self, name: str, message: str) -> None:
        super().__init__("conflict", message, 409)
        self.name = name


class NothingToResolve(SyncProblem):
    def __init__(self, ref: str) -> None:
        super().__init__(f"the server has no copy of {ref} to merge with")
        self.ref = ref


class FolderNotEmpty(SyncProblem):
    def __init__(self, path: str) -> None:
        super().__init__(f"{path} already holds files: choose an empty or new folder")
        self.path = path


def translate_rest(error: RestError, server_url: str) -> GitWriteError:
    """The writer-facing error for a refused or failed REST call."""
    if error.code == "unreachable" or error.status == 0:
        return ServerUnreachable(server_url, error.message)
    if error.status == 401:
        return SignedOut(server_url, error.message)
    return ServerRefused(error.code, _with_details(error), error.status)


def _with_details(error: RestError) -> str:
    """The server's message, with what its details say was wrong (refused fields: the
    server sends them as ``{"errors": [{"key": ..., "message": ...}]}``)."""
    found = error.details.get("errors")
    items = found if isinstance(found, list) else [error.details]
    said = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("message"), str):
            continue
        key = item.get("key")
        said.append(
            f"{key}: {item['message']}" if isinstance(key, str) and key else item["message"]
        )
    return "; ".join([error.message, *said]) if said else error.message
