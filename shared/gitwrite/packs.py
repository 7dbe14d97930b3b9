"""Packs for sync: a thin pack of what the other side lacks, and storing a received one.

`build_push_pack` sends the objects reachable from the new commits and not from the ones
the other side is known to have, as git's thin packs do: each new version of a file (or
folder) is a delta against the previous version of the same path. When that previous
version is one the other side has, the delta refers to it by id (``REF_DELTA``) instead of
sending it, so one save of a 600 KB chapter costs a few hundred bytes. When several saves
go at once, later versions are deltas against earlier ones in the same pack
(``OFS_DELTA``), in chains at most ``max_depth`` long (see `gitwrite._packorder.delta_bases`).
Deltas come from dulwich's ``create_delta`` (its Rust extension when built).

`apply_pack` stores a received pack (thin or not) into a local repository: the pack's
checksum is verified, external bases are looked up locally and copied into the stored
pack (git's ``index-pack --fix-thin``), and every commit, tree and tag is checked as
``git fsck`` would, so a tree entry such as ``..`` or ``.git`` never lands.

Errors::

    GitWriteError (gitwrite.errors)
    └── PackError          a pack that cannot be built or stored
        ├── MissingBases       a thin pack has deltas against objects this repository lacks
        └── IncompleteHistory  its objects refer to objects that are nowhere
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from dulwich.errors import ApplyDeltaError, ChecksumMismatch, ObjectFormatException
from dulwich.object_store import DiskObjectStore
from dulwich.objects import RawObjectID, hex_to_sha, sha_to_hex
from dulwich.pack import (
    OFS_DELTA,
    REF_DELTA,
    UnresolvedDeltas,
    create_delta,
    pack_header_chunks,
    pack_object_header,
)

from gitwrite._packcheck import InvalidObject, check_objects, object_types
from gitwrite._packorder import delta_bases
from gitwrite._packwalk import MissingLocalObject, find_missing
from gitwrite.errors import GitWriteError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dulwich.object_format import ObjectFormat
    from dulwich.object_store import BaseObjectStore
    from dulwich.objects import ObjectID
    from dulwich.repo import Repo

    from gitwrite._packwalk import PathGroup

__all__ = [
    "MAX_DEPTH",
    "IncompleteHistory",
    "MissingBases",
    "PackError",
    "apply_pack",
    "build_push_pack",
]

# The server's storage caps delta chains at 50 (``gitwrite_sync.db.models.MAX_DELTA_DEPTH``);
# chains in a pack stay within the same bound so it can keep them as they are.
MAX_DEPTH = 50
# Objects above this are sent whole: deltas of huge files cost more than they save.
BIG_OBJECT = 64 * 1024 * 1024
_GITLINK = 0o160000
_EMPTY_PACK_LEN = 32  # header (12) + SHA-1 trailer (20) of a pack with no objects


class PackError(GitWriteError):
    """A pack that cannot be built or stored; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot use this pack: {reason}")
        self.reason = reason


class IncompleteHistory(PackError):
    """The pack's objects refer to objects that are neither in it nor in the repository."""

    def __init__(self, missing: Iterable[str]) -> None:
        self.missing = tuple(sorted(missing))
        shown = ", ".join(self.missing[:3]) + (" ..." if len(self.missing) > 3 else "")
        super().__init__(f"the history it brings is incomplete: {shown} is missing")


class MissingBases(PackError):
    """A thin pack holds deltas against objects this repository does not have."""

    def __init__(self, missing: Iterable[str]) -> None:
        self.missing = tuple(sorted(missing))
        shown = ", ".join(self.missing[:3]) + (" ..." if len(self.missing) > 3 else "")
        super().__init__(f"it refers to objects this repository lacks: {shown}")


# -- building ------------------------------------------------------------------------


class _ThinPackWriter:
    """Appends objects to an in-memory pack, as whole objects or deltas."""

    def __init__(self, count: int, fmt: ObjectFormat, compression: int) -> None:
        self.out = io.BytesIO()
        self.fmt = fmt
        self.hash = fmt.new_hash()
        self.offsets: dict[ObjectID, int] = {}
        self.compression = compression
        for chunk in pack_header_chunks(count):
            self._write(chunk)

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.hash.update(data)

    def add(self, sha: ObjectID, type_num: int, data: bytes, base: ObjectID | None) -> None:
        """Append ``data``: the whole object, or a delta against ``base`` (an object
        already in this pack, or else one the receiver has)."""
        offset = self.out.tell()
        if base is None:
            header = pack_object_header(type_num, None, len(data), self.fmt)
        elif base in self.offsets:
            header = pack_object_header(OFS_DELTA, offset - self.offsets[base], len(data), self.fmt)
        else:
            header = pack_object_header(REF_DELTA, hex_to_sha(base), len(data), self.fmt)
        self.offsets[sha] = offset
        self._write(bytes(header))
        self._write(zlib.compress(data, self.compression))

    def finish(self) -> bytes:
        self.out.write(self.hash.digest())
        return self.out.getvalue()


def _raw(store: BaseObjectStore, sha: ObjectID) -> tuple[int, bytes]:
    try:
        return store.get_raw(sha)
    except KeyError as exc:
        raise PackError(f"the local repository is missing object {sha.decode()}") from exc


def _best_delta(base: bytes | None, raw: bytes) -> bytes | None:
    """A delta from ``base`` to ``raw`` when it is under half the size of ``raw``."""
    if base is None or len(raw) > BIG_OBJECT or len(base) > BIG_OBJECT:
        return None
    delta = b"".join(create_delta(base, raw))
    return delta if len(delta) < len(raw) // 2 else None


def _write_group(
    writer: _ThinPackWriter, store: BaseObjectStore, group: PathGroup, max_depth: int
) -> None:
    """Write one path's new versions, each a delta along the planned chain when worth it.

    With an external base, it is position 0 of the plan (never written), so the first new
    version is a delta against what the receiver has.
    """
    shas = [group.base, *group.shas] if group.base is not None else list(group.shas)
    first_new = 1 if group.base is not None else 0
    plan = delta_bases(len(shas), max_depth)
    # Keep a version in memory until the last position that may use it as a base: the one
    # planned, or the next, which falls back on its neighbour.
    keep_until = list(range(1, len(shas) + 1))
    for position, base in enumerate(plan):
        if base is not None:
            keep_until[base] = max(keep_until[base], position)
    contents: dict[int, bytes] = {}
    depths = [0] * len(shas)  # chain depth inside this pack; the external base is 0
    if group.base is not None:
        type_num, raw = _raw(store, group.base)
        if type_num == group.type_num:
            contents[0] = raw
    for position in range(first_new, len(shas)):
        sha = shas[position]
        type_num, raw = _raw(store, sha)
        chosen: tuple[int, bytes] | None = None
        for candidate in dict.fromkeys((plan[position], position - 1)):
            if candidate is None or candidate not in contents or depths[candidate] >= max_depth:
                continue
            delta = _best_delta(contents[candidate], raw)
            if delta is not None:
                chosen = (candidate, delta)
                break
        if chosen is None:
            writer.add(sha, type_num, raw, None)
        else:
            writer.add(sha, type_num, chosen[1], shas[chosen[0]])
            depths[position] = depths[chosen[0]] + 1
        contents[position] = raw
        for done in [p for p in contents if keep_until[p] <= position]:
            del contents[done]


def build_push_pack(
    repo: Repo,
    new_ids: Iterable[ObjectID],
    known_ids: Iterable[ObjectID],
    *,
    max_depth: int = MAX_DEPTH,
    compression: int = 6,
) -> bytes:
    """A thin pack of the objects reachable from ``new_ids`` and not from ``known_ids``.

    Args:
        repo: The local repository holding every new object.
        new_ids: Commits (or tags) the receiver should end up with.
        known_ids: Commits the receiver is known to have with their whole history (its ref
            heads as last seen). Ids this repository has never seen are ignored.
        max_depth: The longest delta chain inside the pack.
        compression: zlib level of each object in the pack.

    Returns:
        The pack, or ``b""`` when the receiver lacks nothing.

    Raises:
        PackError: a new object, or its history, is missing from ``repo``.
    """
    store = repo.object_store
    try:
        missing = find_missing(store, new_ids, known_ids)
    except MissingLocalObject as exc:
        raise PackError(f"the local repository is missing object {exc.sha.decode()}") from exc
    if not missing.count:
        return b""
    writer = _ThinPackWriter(missing.count, store.object_format, compression)
    for sha in [*missing.commits, *missing.tags]:
        type_num, raw = _raw(store, sha)
        writer.add(sha, type_num, raw, None)
    for group in missing.groups.values():
        _write_group(writer, store, group, max_depth)
    return writer.finish()


# -- storing -------------------------------------------------------------------------


def apply_pack(
    repo: Repo, pack: bytes, *, max_bytes: int | None = None, complete: bool = False
) -> set[ObjectID]:
    """Store a received pack (possibly thin) in ``repo`` and return the ids it held.

    ``b""`` stores nothing. External delta bases must already be in ``repo``; they are
    copied into the stored pack so it stands alone. Nothing is stored when a check fails.

    Args:
        repo: A repository on disk.
        pack: The pack as received.
        max_bytes: Refuse packs larger than this.
        complete: Also refuse a pack whose commits, trees or tags refer to objects
            neither in it nor in ``repo`` (git's connectivity check: when ``repo`` was
            complete before, it is complete after).

    Raises:
        MissingBases: a delta's base is neither in the pack nor in ``repo``.
        IncompleteHistory: with ``complete``, an object refers to one that is nowhere.
        PackError: the pack does not parse, fails its checksum, is larger than
            ``max_bytes``, or holds an object ``git fsck --strict`` would refuse.
    """
    if not pack:
        return set()
    if max_bytes is not None and len(pack) > max_bytes:
        raise PackError(f"it is {len(pack)} bytes, over the limit of {max_bytes}")
    if len(pack) < _EMPTY_PACK_LEN or pack[:4] != b"PACK":
        raise PackError("it is not a git pack")
    store = repo.object_store
    if not isinstance(store, DiskObjectStore):
        raise TypeError(f"apply_pack needs a repository on disk, not {type(store).__name__}")
    objects_dir = Path(store.path)
    temporary = set(objects_dir.glob("tmp_pack_*"))
    try:
        stored = store.add_thin_pack(io.BytesIO(pack).read, None)
    except Exception as exc:
        # dulwich leaves its temporary file behind when the pack does not verify.
        for leftover in set(objects_dir.glob("tmp_pack_*")) - temporary:
            leftover.unlink(missing_ok=True)
        raise translate_error(exc) from exc
    try:
        types = object_types(stored)
        links = check_objects(store, types)
        if complete:
            lacking = {sha for sha in links - types.keys() if not has_object(store, sha)}
            if lacking:
                raise IncompleteHistory(s.decode() for s in lacking)
    except InvalidObject as exc:
        store._remove_pack(stored)  # dulwich has no public way to drop one pack
        raise PackError(f"it holds an invalid object ({exc})") from exc
    except IncompleteHistory:
        store._remove_pack(stored)
        raise
    return set(types)


def has_object(store: BaseObjectStore, sha: ObjectID) -> bool:
    """Whether ``store`` has ``sha``, without reading it: dulwich's ``in`` reads and
    inflates a loose object to answer, and a tree of sixty chapters links sixty of them."""
    if isinstance(store, DiskObjectStore):
        if store.contains_packed(sha):
            return True
        hexsha = sha.decode("ascii")
        return os.path.exists(os.path.join(store.path, hexsha[:2], hexsha[2:]))
    return sha in store


def translate_error(exc: Exception) -> Exception:
    """The `PackError` for an exception dulwich raised while storing a pack."""
    if isinstance(exc, UnresolvedDeltas | KeyError):
        return MissingBases(_unresolved(exc))
    if isinstance(exc, ChecksumMismatch | ApplyDeltaError | ObjectFormatException | AssertionError):
        return PackError(f"it is corrupt ({type(exc).__name__}: {exc})")
    if isinstance(exc, ValueError | zlib.error | struct.error | IndexError):
        return PackError(f"it does not parse ({type(exc).__name__}: {exc})")
    return exc


def _unresolved(exc: Exception) -> list[str]:
    shas = getattr(exc, "shas", None) or list(exc.args[:1])
    return [_hex(sha) for sha in shas]


def _hex(sha: object) -> str:
    if isinstance(sha, bytes):
        return sha_to_hex(RawObjectID(sha)).decode() if len(sha) == 20 else sha.decode()
    return str(sha)
