"""The values the engine hands back: what changed, what a save holds, who wrote it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from gitwrite.prose import Run


@dataclass(frozen=True, slots=True)
class Author:
    """Who saves: written into every save as git author and committer."""

    name: str
    email: str

    def identity(self) -> bytes:
        return f"{self.name} <{self.email}>".encode()


class ChangeKind(enum.StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file changed since the last save (or between two saves)."""

    path: str
    kind: ChangeKind
    words_added: int = 0
    words_removed: int = 0


@dataclass(frozen=True, slots=True)
class Status:
    """What changed on disk since the last save."""

    changes: tuple[FileChange, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.changes

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.changes]

    @property
    def words_added(self) -> int:
        return sum(c.words_added for c in self.changes)

    @property
    def words_removed(self) -> int:
        return sum(c.words_removed for c in self.changes)


@dataclass(frozen=True, slots=True)
class SaveInfo:
    """One save in the history."""

    id: str
    message: str
    author: str
    email: str
    time: datetime
    parents: tuple[str, ...]
    words_added: int
    words_removed: int

    @property
    def summary(self) -> str:
        return self.message.split("\n", 1)[0]

    @property
    def short_id(self) -> str:
        return self.id[:8]


@dataclass(frozen=True, slots=True)
class FileComparison:
    """The word-level comparison of one file between two versions."""

    path: str
    kind: ChangeKind
    runs: list[Run] = field(default_factory=list)
    words_added: int = 0
    words_removed: int = 0
    binary: bool = False
