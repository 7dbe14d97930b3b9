"""Repository maintenance: repack every object into one delta-compressed pack.

dulwich writes every save as loose, whole objects and never makes deltas on its own, so a
long history of a novel grows by a whole copy of the chapter (and of the project's tree)
per save. :func:`repack` rewrites all the objects of a repository into a single pack in
which each version of a file is stored as a delta against a neighbouring version of the
same path (see :mod:`gitwrite._packorder` for the plan), readable by dulwich and by git.

Safety: the new pack is written under a temporary name, flushed to disk and renamed into
place (the ``.pack`` before the ``.idx``, as git does) before anything old is deleted, and
then only the loose objects and packs whose every object is in the new pack are deleted.
A crash at any point leaves a repository in which every object can be read. Packs marked
``.keep`` or ``.promisor`` are left as they are, as ``git repack -a`` leaves them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dulwich.object_store import DiskObjectStore
from dulwich.objects import ObjectID
from dulwich.pack import load_pack_index, write_pack_index

from gitwrite._packorder import delta_bases, group_objects
from gitwrite._packwrite import Group, WrittenPack, write_pack

if TYPE_CHECKING:
    from collections.abc import Iterator

    from dulwich.repo import Repo

__all__ = ["RepackReport", "objects_size", "repack"]

logger = logging.getLogger(__name__)

# Files that belong to a pack ``pack-<hash>``, removed with it (the .idx first, which hides it).
_PACK_FILES = (".idx", ".pack", ".rev", ".bitmap", ".mtimes")
# A pack with one of these beside it is not ours to rewrite.
_KEEP_MARKERS = (".keep", ".promisor")


@dataclass(frozen=True, slots=True)
class RepackReport:
    """The outcome of :func:`repack`.

    Attributes:
        objects: Objects in the new pack.
        deltas: Of which stored as deltas.
        size_before: Bytes under ``.git/objects`` before.
        size_after: Bytes under ``.git/objects`` after.
        seconds: Wall-clock time the repack took.
    """

    objects: int
    deltas: int
    size_before: int
    size_after: int
    seconds: float


@dataclass(frozen=True, slots=True)
class _OldPack:
    base: Path  # .../pack-<hash> without extension
    shas: frozenset[ObjectID]


def _objects_dir(repo: Repo) -> Path:
    store = repo.object_store
    if not isinstance(store, DiskObjectStore):
        raise TypeError(f"repack needs a repository on disk, not {type(store).__name__}")
    return Path(store.path)


def objects_size(repo: Repo) -> int:
    """Bytes of all the files under the repository's objects folder (loose objects and packs)."""
    total = 0
    for folder, _dirs, files in os.walk(_objects_dir(repo)):
        for name in files:
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                total += (Path(folder) / name).lstat().st_size
    return total


def _loose_objects(objects_dir: Path, hex_length: int) -> dict[ObjectID, Path]:
    """Every loose object file, by object id."""
    found: dict[ObjectID, Path] = {}
    hexdigits = set("0123456789abcdef")
    for fan in sorted(objects_dir.iterdir()):
        if len(fan.name) != 2 or not set(fan.name) <= hexdigits or not fan.is_dir():
            continue
        for path in sorted(fan.iterdir()):
            rest = path.name
            if len(rest) == hex_length - 2 and set(rest) <= hexdigits:
                found[ObjectID((fan.name + rest).encode())] = path
    return found


def _old_packs(repo: Repo, pack_dir: Path) -> list[_OldPack]:
    """The packs (with an index) that the repack may replace: all but kept ones."""
    packs: list[_OldPack] = []
    if not pack_dir.is_dir():
        return packs
    fmt = repo.object_store.object_format
    for idx in sorted(pack_dir.glob("*.idx")):
        base = idx.with_suffix("")
        if not base.with_suffix(".pack").is_file():
            continue
        if any(base.with_suffix(marker).exists() for marker in _KEEP_MARKERS):
            continue
        try:
            index = load_pack_index(str(idx), fmt)
        except Exception as exc:  # an unreadable index: leave that pack as it is
            logger.warning("repack: cannot read %s (%s); leaving its pack alone", idx, exc)
            continue
        try:
            packs.append(_OldPack(base, frozenset(index)))
        finally:
            index.close()
    return packs


def _groups(repo: Repo, todo: dict[ObjectID, None], max_depth: int) -> Iterator[Group]:
    """Everything in ``todo`` once, in pack order: commits, tags, trees and blobs by path, rest."""
    grouping = group_objects(repo, todo)
    placed: set[ObjectID] = set()
    whole: list[list[ObjectID]] = [grouping.commits, grouping.tags]
    for shas in whole:
        placed.update(shas)
        yield Group(shas, [None] * len(shas))
    for shas in grouping.paths.values():
        placed.update(shas)
        yield Group(shas, delta_bases(len(shas), max_depth))
    rest = [sha for sha in todo if sha not in placed]
    yield Group(rest, [None] * len(rest))


def _fsync_dir(path: Path) -> None:
    """Make renames in ``path`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_new_pack(
    repo: Repo, pack_dir: Path, todo: dict[ObjectID, None], max_depth: int
) -> tuple[WrittenPack, Path]:
    """Write the new pack and its index under temporary names, then rename them into place."""
    pack_dir.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    # git's own prune removes stale "tmp_*" files from the pack folder.
    tmp_pack = pack_dir / f"tmp_pack_gitwrite_{token}"
    tmp_idx = pack_dir / f"tmp_idx_gitwrite_{token}"
    fmt = repo.object_store.object_format
    try:
        with tmp_pack.open("x+b") as f:
            written = write_pack(
                f,
                repo.object_store,
                _groups(repo, todo, max_depth),
                len(todo),
                max_depth=max_depth,
                fmt=fmt,
            )
            f.flush()
            os.fsync(f.fileno())
        with tmp_idx.open("xb") as f:
            write_pack_index(f, written.entries, written.checksum, version=2)
            f.flush()
            os.fsync(f.fileno())
        base = pack_dir / f"pack-{written.checksum.hex()}"
        final_pack, final_idx = base.with_suffix(".pack"), base.with_suffix(".idx")
        if final_pack.is_file() and final_idx.is_file():
            # The same bytes are already there (a repack of an unchanged repository).
            tmp_pack.unlink()
            tmp_idx.unlink()
        else:
            for tmp in (tmp_pack, tmp_idx):
                tmp.chmod(0o444)
            os.replace(tmp_pack, final_pack)
            os.replace(tmp_idx, final_idx)
            _fsync_dir(pack_dir)
    except BaseException:
        tmp_pack.unlink(missing_ok=True)
        tmp_idx.unlink(missing_ok=True)
        raise
    return written, base


def _remove(path: Path) -> None:
    """Delete a file, read-only or already gone."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except PermissionError:  # read-only files on Windows
        path.chmod(0o644)
        path.unlink()


def _drop_multi_pack_index(pack_dir: Path) -> None:
    """Remove the multi-pack index and its companions: they name the packs about to go."""
    for path in pack_dir.glob("multi-pack-index*"):
        _remove(path)


def _refresh_info_packs(objects_dir: Path) -> None:
    """Rewrite ``info/packs`` (the pack list for dumb HTTP) if the repository has one."""
    info_packs = objects_dir / "info" / "packs"
    if info_packs.is_file():
        pack_dir = objects_dir / "pack"
        names = sorted(p.name for p in pack_dir.glob("*.pack") if p.with_suffix(".idx").is_file())
        info_packs.write_text("".join(f"P {name}\n" for name in names) + "\n")


def repack(repo: Repo, *, max_depth: int = 50) -> RepackReport:
    """Rewrite every object of ``repo`` into one new pack, versions of a path as deltas.

    All loose objects and all objects of the existing packs (but kept ones) go into the new
    pack, reachable or not. Blobs and trees met walking the history of every ref (and the
    reflogs) are grouped by path and stored as deltas against a neighbouring version of
    the same path, at most ``max_depth`` deltas deep; commits, tags and objects no ref
    reaches are stored whole. Objects that cannot be read or are corrupt are left where
    they are (and logged), with the pack holding them.

    ``repo``'s object store is closed at the end (dulwich reopens packs on demand), so no
    other thread may be reading through the same ``Repo`` meanwhile; other processes and
    other ``Repo`` objects may go on reading and saving.

    Args:
        repo: A repository on disk.
        max_depth: Longest delta chain allowed; 0 stores everything whole.

    Returns:
        What was packed, and the size of the objects folder before and after.
    """
    if max_depth < 0:
        raise ValueError(f"max_depth must be 0 or more, not {max_depth}")
    started = time.perf_counter()
    objects_dir = _objects_dir(repo)
    pack_dir = objects_dir / "pack"
    size_before = objects_size(repo)
    hex_length = repo.object_store.object_format.hex_length
    loose = _loose_objects(objects_dir, hex_length)
    old_packs = _old_packs(repo, pack_dir)
    todo: dict[ObjectID, None] = dict.fromkeys(loose)
    for old in old_packs:
        todo.update(dict.fromkeys(sorted(old.shas)))
    if not todo:
        return RepackReport(0, 0, size_before, size_before, time.perf_counter() - started)

    written, new_base = _write_new_pack(repo, pack_dir, todo, max_depth)
    in_new_pack = set(todo) - written.skipped
    # Release dulwich's open maps of the old packs; it reopens what it needs on demand.
    repo.object_store.close()
    _drop_multi_pack_index(pack_dir)
    for old in old_packs:
        if old.base == new_base:
            continue
        if old.shas <= in_new_pack:
            for suffix in _PACK_FILES:
                _remove(old.base.with_suffix(suffix))
        else:
            logger.warning("repack: kept %s, some of its objects could not be read", old.base)
    for sha, path in loose.items():
        if sha in in_new_pack:
            _remove(path)
    _refresh_info_packs(objects_dir)
    return RepackReport(
        objects=len(written.entries),
        deltas=written.deltas,
        size_before=size_before,
        size_after=objects_size(repo),
        seconds=time.perf_counter() - started,
    )
