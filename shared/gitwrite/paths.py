"""Project-relative file paths: the only form the engine accepts or returns.

A path is POSIX-style, relative to the project folder, and never escapes it: no leading
``/``, no ``..``, no ``.git`` component (in any letter case), no empty or NUL parts. The
same rules protect trees that arrive from other writers through sync.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from gitwrite.errors import InvalidPath

MAX_PATH_BYTES = 4096
_FORBIDDEN_PARTS = {".", "..", ""}


def check_path(path: str) -> str:
    """Return ``path`` normalised to a project-relative POSIX path, or raise `InvalidPath`."""
    if not isinstance(path, str) or not path:
        raise InvalidPath(str(path), "empty")
    if "\x00" in path:
        raise InvalidPath(path, "contains a NUL character")
    if "\\" in path:
        raise InvalidPath(path, "contains a backslash; use / between folders")
    if path.startswith("/"):
        raise InvalidPath(path, "must be relative to the project folder")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise InvalidPath(path, "too long")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidPath(path, "is not valid UTF-8") from exc
    parts = path.split("/")
    for part in parts:
        check_path_part(part, path)
    return str(PurePosixPath(*parts))


def check_path_part(part: str, whole: str | None = None) -> None:
    """Refuse one path component that git or the file system must not see."""
    shown = whole if whole is not None else part
    if part in _FORBIDDEN_PARTS:
        raise InvalidPath(shown, "must not contain empty, '.' or '..' parts")
    if part.lower().rstrip(". ") == ".git":
        raise InvalidPath(shown, "must not name the .git folder")
    if "/" in part or "\x00" in part:
        raise InvalidPath(shown, "contains a forbidden character")


def check_tree_name(name: bytes) -> str:
    """Check one entry name of a git tree (from disk or from the network); return it decoded."""
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidPath(repr(name), "is not valid UTF-8") from exc
    check_path_part(text)
    return text
