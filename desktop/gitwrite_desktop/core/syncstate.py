"""Sync state per shared project: what the sync engine remembers between connections.

For each share (project, account), the cache keeps the last event sequence received
from the server for that repository, the server's heads as last known, whether local
saves wait to be pushed, and the last error. The sync engine (another thread) reads
through its own connection and writes through operations run on the worker.

Rebuilding (a new cache) loses nothing that matters: the heads come back from the
remote-tracking refs the fetches left in the repository (`gitwrite.remotes`), "needs
push" is recomputed from them, and a last sequence of 0 makes the server replay its
log or ask for a re-sync by heads (DESIGN §4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dulwich.objects import ObjectID
from dulwich.refs import Ref

from gitwrite import remotes
from gitwrite.ancestry import ancestry

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlite_utils import Database

    from gitwrite.project import Project
    from gitwrite_desktop.core.workspace import Share

ANNOTATIONS = b"refs/gitwrite/annotations"


@dataclass(frozen=True, slots=True)
class SyncState:
    project_id: str
    account_id: str
    last_seq: int = 0
    needs_push: bool = False
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_synced_at: datetime | None = None
    server_heads: dict[str, str] = field(default_factory=dict)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def read(db: Database, project_id: str, account_id: str) -> SyncState:
    """The state of one share (defaults when nothing is known yet)."""
    row = db.execute(
        """SELECT last_seq, needs_push, last_error, last_error_at, last_synced_at
           FROM sync_state WHERE project_id = ? AND account_id = ?""",
        [project_id, account_id],
    ).fetchone()
    heads = {
        r["ref"]: r["head"]
        for r in db.query(
            "SELECT ref, head FROM server_heads WHERE project_id = ? AND account_id = ?",
            [project_id, account_id],
        )
    }
    if row is None:
        return SyncState(project_id, account_id, server_heads=heads)
    return SyncState(
        project_id,
        account_id,
        last_seq=row[0],
        needs_push=bool(row[1]),
        last_error=row[2],
        last_error_at=_when(row[3]),
        last_synced_at=_when(row[4]),
        server_heads=heads,
    )


class SyncStates:
    """Writes sync state (worker thread)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _update(self, project_id: str, account_id: str, **values: Any) -> None:
        with self.db.atomic():
            self.db.execute(
                "INSERT OR IGNORE INTO sync_state (project_id, account_id) VALUES (?, ?)",
                [project_id, account_id],
            )
            sets = ", ".join(f"{name} = :{name}" for name in values)
            self.db.execute(
                f"UPDATE sync_state SET {sets} WHERE project_id = :p AND account_id = :a",
                {**values, "p": project_id, "a": account_id},
            )

    def set_last_seq(self, project_id: str, account_id: str, seq: int) -> None:
        self._update(project_id, account_id, last_seq=seq)

    def set_needs_push(self, project_id: str, account_id: str, needs_push: bool) -> None:
        self._update(project_id, account_id, needs_push=int(needs_push))

    def record_error(self, project_id: str, account_id: str, message: str) -> None:
        now = datetime.now(UTC).isoformat()
        self._update(project_id, account_id, last_error=message, last_error_at=now)

    def record_success(self, project_id: str, account_id: str) -> None:
        """A sync went through: the last error is cleared and the time noted."""
        now = datetime.now(UTC).isoformat()
        self._update(
            project_id, account_id, last_error=None, last_error_at=None, last_synced_at=now
        )

    def set_server_heads(
        self, project_id: str, account_id: str, heads: Mapping[str, str], *, complete: bool
    ) -> None:
        """Record the server's heads (ref → id); with ``complete``, refs not given are gone."""
        with self.db.atomic():
            if complete:
                self.db.execute(
                    "DELETE FROM server_heads WHERE project_id = ? AND account_id = ?",
                    [project_id, account_id],
                )
            self.db.table("server_heads").upsert_all(
                [
                    {"project_id": project_id, "account_id": account_id, "ref": r, "head": h}
                    for r, h in heads.items()
                ],
                pk=("project_id", "account_id", "ref"),
            )

    def rebuild(self, project: Project, share: Share) -> SyncState:
        """Recompute what can be known from the repository: heads and "needs push"."""
        tracked = remotes.tracked(project.repo, share.remote)
        heads = {name: sha.decode() for name, sha in tracked.items()}
        self.set_server_heads(share.project_id, share.account_id, heads, complete=True)
        self.set_needs_push(share.project_id, share.account_id, needs_push(project, tracked))
        return read(self.db, share.project_id, share.account_id)


def local_refs(project: Project) -> dict[str, ObjectID]:
    """The refs a sync pushes: branches, milestones and the annotations ref."""
    repo = project.repo
    found: dict[str, ObjectID] = {}
    for base in (b"refs/heads", b"refs/tags"):
        for name, sha in repo.refs.as_dict(Ref(base)).items():
            if sha is not None:
                found[f"{base.decode()}/{name.decode('utf-8', 'surrogateescape')}"] = sha
    if Ref(ANNOTATIONS) in repo.refs:
        found[ANNOTATIONS.decode()] = repo.refs[Ref(ANNOTATIONS)]
    return found


def needs_push(project: Project, server: Mapping[str, ObjectID]) -> bool:
    """Whether a local branch, milestone or the annotations hold something the server
    lacks: a ref it does not have, or a commit its copy does not contain."""
    repo = project.repo
    for ref, sha in local_refs(project).items():
        theirs = server.get(ref)
        if theirs == sha:
            continue
        if theirs is None or ref.startswith("refs/tags/") or theirs not in repo.object_store:
            return True
        if not ancestry(repo).is_ancestor(sha, theirs):  # ours is not already in theirs
            return True
    return False
