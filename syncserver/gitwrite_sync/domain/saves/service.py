"""One file's new content saved as a new commit, made by the server.

The save is built on the exploration's last save: the new blob, the folders along its
path, and a commit whose message ends with the ``GitWrite-Words`` trailer (words added
and removed, `gitwrite.prose.word_stats`) and whose author is the user's account. It is
applied through the sync service's push (`gitwrite_sync.domain.content.apply`): one
transaction with the event and the indexing job, the live notice after the commit.

When the exploration moves while the save is being made: with ``expected_head`` the
save is refused (``stale``); without it, it is made again on the new last save if the
race left this file alone (the writer's text replaces the same version it would have),
and refused otherwise. Saving the text a file already has makes no save.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from dulwich.objects import ShaFile

from gitwrite import prose
from gitwrite.messages import default_message
from gitwrite.model import ChangeKind, FileChange
from gitwrite.protocol import ZERO_ID
from gitwrite.texts import decode_text
from gitwrite.trailers import add_word_trailer
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import User
from gitwrite_sync.domain.access import Action, require
from gitwrite_sync.domain.content import (
    FILE_MODE,
    Entry,
    RepoReader,
    TreeWriter,
    apply,
    author_of,
    branch_name,
    checked_path,
    is_dir,
    make_commit,
    require_ref,
    shown_name,
)
from gitwrite_sync.domain.saves.schemas import SaveResponse
from gitwrite_sync.domain.sync import SyncService
from gitwrite_sync.errors import InvalidInput, NotFound, StaleRef, TooLarge
from gitwrite_sync.settings import Settings

ATTEMPTS = 10
"""Tries of a save without ``expected_head`` whose exploration keeps moving (each lost
race means another save landed, so a busy project still makes progress)."""


@dataclass(frozen=True, slots=True)
class _Draft:
    """A save built and ready to apply."""

    ref: str
    default_branch: str
    seq: int
    head: str | None
    old: Entry | None
    objects: list[ShaFile]
    commit_id: str
    blob_id: str | None
    parents: list[str]
    message: str
    words: prose.WordStats


class SaveService:
    def __init__(self, db: Database, settings: Settings, sync: SyncService) -> None:
        self.db = db
        self.settings = settings
        self.sync = sync

    @property
    def max_bytes(self) -> int:
        return min(self.settings.max_upload_bytes, self.settings.max_object_bytes)

    def check_size(self, size: int) -> None:
        """`TooLarge` when a file of ``size`` bytes may not be saved."""
        if size > self.max_bytes:
            raise TooLarge(f"a file may hold at most {self.max_bytes} bytes", limit=self.max_bytes)

    async def save_text(
        self,
        user: User,
        repo_name: str,
        file_path: str,
        content: str,
        *,
        message: str = "",
        exploration: str | None = None,
        expected_head: str | None = None,
    ) -> SaveResponse:
        """Save ``content`` as the text of ``file_path`` (see the module docstring)."""
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidInput("the content is not valid UTF-8 text", field="content") from exc
        return await self.save_bytes(
            user,
            repo_name,
            file_path,
            data,
            message=message,
            exploration=exploration,
            expected_head=expected_head,
        )

    async def save_bytes(
        self,
        user: User,
        repo_name: str,
        file_path: str,
        data: bytes | None,
        *,
        message: str = "",
        exploration: str | None = None,
        expected_head: str | None = None,
    ) -> SaveResponse:
        """Save ``data`` as the content of ``file_path`` (text or not), or delete the file
        when ``data`` is None.

        Raises:
            InvalidInput: a path GitWrite refuses, or one through a file or onto a folder.
            TooLarge: over the upload limit.
            NotFound: no such repository for this user, or no such exploration; no such
                file to delete.
            Forbidden: the role may not save there.
            StaleRef: the exploration moved (see the module docstring).
        """
        path = checked_path(file_path)
        if data is not None:
            self.check_size(len(data))
        first: _Draft | None = None
        for attempt in range(ATTEMPTS):
            draft = await self._draft(user, repo_name, path, data, message, exploration)
            if expected_head is not None and draft.head != expected_head:
                raise StaleRef(draft.ref, expected_head, draft.head)
            if first is None:
                first = draft
            elif draft.old != first.old:  # the race changed this very file
                raise StaleRef(draft.ref, first.head or ZERO_ID, draft.head)
            if draft.head is not None and draft.commit_id == draft.head:
                return self._response(draft, path, saved=False, seq=draft.seq)
            try:
                outcome = await apply(
                    self.sync,
                    user,
                    repo_name,
                    draft.ref,
                    draft.head,
                    draft.commit_id,
                    draft.objects,
                )
            except StaleRef:
                if expected_head is not None or attempt == ATTEMPTS - 1:
                    raise
                await asyncio.sleep(random.uniform(0, 0.005 * (attempt + 1)))
                continue
            return self._response(draft, path, saved=True, seq=outcome.seq)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _draft(
        self,
        user: User,
        repo_name: str,
        path: str,
        data: bytes | None,
        message: str,
        exploration: str | None,
    ) -> _Draft:
        async with self.db.read() as session:
            repo, role = await require(session, user, repo_name, Action.READ)
            reader = RepoReader(session, self.sync.objects, repo)
            ref = await reader.branch_ref(exploration)
            require_ref(repo, role, ref)
            head = await reader.head(ref)
            base_tree = (await reader.commit(head)).tree.decode() if head else None
            old = await reader.lookup(base_tree, path) if base_tree else None
            if old is not None and is_dir(old[0]):
                raise InvalidInput(f"{path!r} is a folder", field="file_path")
            if old is None and data is None:
                raise NotFound(f"no file {path!r} to delete", path=path)
            old_data = await reader.blob(old[1]) if old is not None else None
            writer = TreeWriter(reader)
            blob_id = writer.blob(data) if data is not None else None
            if old is not None and old[1] == blob_id and head is not None:
                last = await reader.commit(head)
                parents = [p.decode() for p in last.parents]
                none = prose.WordStats(0, 0)
                branch, seq = repo.default_branch, reader.seq
                return _Draft(ref, branch, seq, head, old, [], head, blob_id, parents, "", none)
            mode = old[0] if old is not None else FILE_MODE
            entry = (mode, blob_id) if blob_id is not None else None
            tree = await writer.write(base_tree, {path: entry})
            default_branch, seq = repo.default_branch, reader.seq
        words = await asyncio.to_thread(_word_stats, old_data, data if data is not None else b"")
        kind = (
            ChangeKind.ADDED
            if old is None
            else ChangeKind.DELETED
            if data is None
            else ChangeKind.MODIFIED
        )
        text = message.strip() or default_message(
            [FileChange(path, kind, words.added, words.removed)]
        )
        full = add_word_trailer(text, words.added, words.removed)
        parents = [head] if head else []
        commit = make_commit(tree, parents, author_of(user), full)
        return _Draft(
            ref,
            default_branch,
            seq,
            head,
            old,
            [*writer.new, commit],
            commit.id.decode(),
            blob_id,
            parents,
            text,
            words,
        )

    @staticmethod
    def _response(draft: _Draft, path: str, *, saved: bool, seq: int) -> SaveResponse:
        branch = branch_name(draft.ref)
        return SaveResponse(
            id=draft.commit_id,
            saved=saved,
            exploration=shown_name(branch, draft.default_branch),
            branch=branch,
            file_path=path,
            file_id=draft.blob_id,
            parents=draft.parents,
            message=draft.message,
            words_added=draft.words.added,
            words_removed=draft.words.removed,
            seq=seq,
        )


def _word_stats(old: bytes | None, new: bytes) -> prose.WordStats:
    """Words added and removed; none for a file that is not text (before or after)."""
    old_text = decode_text(old) if old is not None else ""
    new_text = decode_text(new)
    if old_text is None or new_text is None:
        return prose.WordStats(0, 0)
    return prose.word_stats(old_text, new_text)
