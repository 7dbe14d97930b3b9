"""A writer's repository made from short specs and pushed through the real sync service,
for the search tests (the same path a desktop's push takes on the server)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dulwich.index import commit_tree
from dulwich.objects import Blob, Commit, ObjectID
from dulwich.repo import Repo

from gitwrite.packs import build_push_pack
from gitwrite.protocol import ZERO_ID
from gitwrite_sync.db.models import User
from gitwrite_sync.services import Services
from gitwrite_sync.storage import RefChange

Files = Mapping[str, str | bytes]
"""Path → text (or raw bytes) of every file of a save."""


class Writer:
    """A local repository whose branches are set from `Files` specs and pushed."""

    def __init__(self, root: Path, services: Services, user: User, repo: str) -> None:
        self.repo = Repo.init(str(root), mkdir=True)
        self.services = services
        self.user = user
        self.name = repo
        self.heads: dict[str, ObjectID] = {}
        self.when = 1_700_000_000

    def commit(self, files: Files, parent: ObjectID | None, message: str = "Save") -> ObjectID:
        entries = []
        for path, content in sorted(files.items()):
            blob = Blob.from_string(content.encode() if isinstance(content, str) else content)
            self.repo.object_store.add_object(blob)
            entries.append((path.encode(), blob.id, 0o100644))
        commit = Commit()
        commit.tree = commit_tree(self.repo.object_store, entries)
        commit.parents = [parent] if parent is not None else []
        commit.author = commit.committer = b"Test Writer <writer@example.com>"
        self.when += 60
        commit.author_time = commit.commit_time = self.when
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = message.encode()
        self.repo.object_store.add_object(commit)
        return commit.id

    async def save(self, branch: str, files: Files, *, start: str | None = None) -> ObjectID:
        """Make ``files`` the whole content of ``branch`` with a new save and push it
        (a new branch starts from ``start``'s head, else from nothing)."""
        parent = self.heads.get(branch) or (self.heads[start] if start else None)
        new = self.commit(files, parent, f"Save on {branch}")
        await self.push(branch, new)
        return new

    async def push(self, branch: str, new: ObjectID) -> None:
        ref = f"refs/heads/{branch}"
        old = self.heads.get(branch)
        pack = build_push_pack(self.repo, [new], list(self.heads.values()))
        outcome = await self.services.sync.push(
            self.user,
            self.name,
            [RefChange(ref, old.decode() if old else ZERO_ID, new.decode())],
            pack,
        )
        assert outcome.status == "ok", outcome
        self.heads[branch] = new

    async def delete(self, branch: str) -> None:
        old = self.heads.pop(branch)
        outcome = await self.services.sync.push(
            self.user, self.name, [RefChange(f"refs/heads/{branch}", old.decode(), ZERO_ID)]
        )
        assert outcome.status == "ok", outcome
