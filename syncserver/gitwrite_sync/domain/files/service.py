"""Reading files: one file at any save, a blob by id, every file with its word count, and
the whole project at a save as a zip archive (export).

Word counts are kept in memory by blob id (a blob's words never change), so listing a
project's files reads only the files that changed since the last listing.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from dataclasses import dataclass

from gitwrite.prose import count_words
from gitwrite.texts import decode_text
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import User
from gitwrite_sync.domain.access import Action, require
from gitwrite_sync.domain.content import FULL_ID, RepoReader, Resolved, checked_path
from gitwrite_sync.domain.files.schemas import FileEntry
from gitwrite_sync.domain.sync import SyncService
from gitwrite_sync.errors import InvalidInput
from gitwrite_sync.settings import Settings
from gitwrite_sync.storage import ByteLRU

_NOT_TEXT = -1


@dataclass(frozen=True, slots=True)
class FileContent:
    """A file's content at a save, and whether the name it was asked by can move."""

    path: str
    id: str
    data: bytes
    save: str
    immutable: bool


@dataclass(frozen=True, slots=True)
class Archive:
    """The files of a save in a zip archive."""

    filename: str
    data: bytes
    save: str
    immutable: bool


class WordCounts:
    """Words per blob, remembered by id."""

    def __init__(self, entries: int = 50_000) -> None:
        self._cache: ByteLRU[str, int] = ByteLRU(entries * 64)

    async def of(self, reader: RepoReader, ids: list[str]) -> dict[str, tuple[int, int | None]]:
        """Size and words (None when not text) of each blob."""
        found: dict[str, tuple[int, int | None]] = {}
        sizes = await reader.objects.infos_of(reader.session, reader.repo.id, ids)
        wanted = []
        for oid in ids:
            words = self._cache.get(oid)
            if words is None:
                wanted.append(oid)
            else:
                found[oid] = (sizes[oid].size, None if words == _NOT_TEXT else words)
        if wanted:
            contents = await reader.objects.read_many(reader.session, reader.repo.id, wanted)
            counted = await asyncio.to_thread(
                lambda: {oid: _words(data) for oid, (_, data) in contents.items()}
            )
            for oid, words in counted.items():
                self._cache.put(oid, words, 64)
                found[oid] = (len(contents[oid][1]), None if words == _NOT_TEXT else words)
        return found


def _words(data: bytes) -> int:
    text = decode_text(data)
    return _NOT_TEXT if text is None else count_words(text)


async def file_tree(reader: RepoReader, tree_id: str, words: WordCounts) -> list[FileEntry]:
    """Every file of a tree with its size and word count, by path."""
    entries = await reader.files(tree_id)
    counted = await words.of(reader, list(dict.fromkeys(sha for _, sha in entries.values())))
    return [
        FileEntry(path, sha, counted[sha][0], counted[sha][1])
        for path, (_, sha) in entries.items()
        if sha in counted
    ]


class FileService:
    def __init__(self, db: Database, settings: Settings, sync: SyncService) -> None:
        self.db = db
        self.settings = settings
        self.sync = sync
        self.words = WordCounts()

    async def read(self, user: User, repo_name: str, path: str, at: str | None) -> FileContent:
        """A file as it is at the save ``at`` names (default: the main story's last save)."""
        path = checked_path(path)
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            reader = RepoReader(session, self.sync.objects, repo)
            resolved = await reader.resolve(at)
            blob_id, data = await reader.file(resolved.tree, path)
        return FileContent(path, blob_id, data, resolved.id, resolved.immutable)

    async def blob(self, user: User, repo_name: str, blob_id: str) -> bytes:
        """A file's content by its id."""
        if not FULL_ID.fullmatch(blob_id):
            raise InvalidInput("a blob id has 40 hexadecimal digits", field="id")
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            return await RepoReader(session, self.sync.objects, repo).blob(blob_id)

    async def tree(
        self, user: User, repo_name: str, at: str | None
    ) -> tuple[Resolved, list[FileEntry]]:
        """Every file of a save with its word count."""
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            reader = RepoReader(session, self.sync.objects, repo)
            resolved = await reader.resolve(at)
            return resolved, await file_tree(reader, resolved.tree, self.words)

    async def export(self, user: User, repo_name: str, at: str | None) -> Archive:
        """The files of a save as a zip archive (owners, editors and writers)."""
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.EXPORT)
            reader = RepoReader(session, self.sync.objects, repo)
            resolved = await reader.resolve(at)
            entries = await reader.files(resolved.tree)
            ids = list(dict.fromkeys(sha for _, sha in entries.values()))
            contents = await reader.objects.read_many(session, repo.id, ids)
        files = {path: contents[sha][1] for path, (_, sha) in entries.items()}
        data = await asyncio.to_thread(_zip, repo_name, files)
        filename = f"{repo_name}-{resolved.id[:8]}.zip"
        return Archive(filename, data, resolved.id, resolved.immutable)


def _zip(folder: str, files: dict[str, bytes]) -> bytes:
    """A zip of ``files`` in one folder, with a fixed date so the same save gives the
    same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            info = zipfile.ZipInfo(f"{folder}/{path}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()
