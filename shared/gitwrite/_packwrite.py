"""Write one pack file from groups of objects, each group deltified along a planned chain.

Every object is read whole (through the object store, so objects stored as deltas in old
packs are resolved) and its hash checked against its name before it is written. An object
that cannot be read or does not match its name is left out and reported, so that its
current copy is never deleted. Deltas are computed with dulwich's ``create_delta`` (the
Rust one when dulwich's extensions are built) and stored as OFS_DELTA: a base is always
written before the objects that are deltas against it.
"""

from __future__ import annotations

import binascii
import logging
import os
import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from dulwich.objects import hex_to_sha
from dulwich.pack import OFS_DELTA, create_delta, obj_sha, pack_header_chunks, pack_object_header

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from dulwich.object_format import ObjectFormat
    from dulwich.object_store import BaseObjectStore
    from dulwich.objects import ObjectID

logger = logging.getLogger(__name__)

# Objects larger than this are stored whole and never used as a base (git's
# core.bigFileThreshold default): deltas of huge files cost more memory and time than they save.
BIG_FILE_THRESHOLD = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Group:
    """Objects to write in this order; ``bases[i]`` is the planned delta base of ``shas[i]``.

    ``bases`` holds positions within the group (smaller than ``i``) or None for whole objects.
    """

    shas: Sequence[ObjectID]
    bases: Sequence[int | None]


@dataclass(slots=True)
class WrittenPack:
    """What :func:`write_pack` wrote.

    Attributes:
        entries: ``(binary sha, offset, crc32)`` of every object written, sorted by sha.
        checksum: The pack's trailing checksum (it names the pack).
        deltas: How many objects were stored as deltas.
        max_depth: The longest delta chain written.
        skipped: Objects left out because they could not be read or were corrupt.
    """

    entries: list[tuple[bytes, int, int]] = field(default_factory=list)
    checksum: bytes = b""
    deltas: int = 0
    max_depth: int = 0
    skipped: set[ObjectID] = field(default_factory=set)


def _read_whole(
    store: BaseObjectStore, sha: ObjectID, fmt: ObjectFormat
) -> tuple[int, bytes] | None:
    """Type and content of ``sha``, or None (logged) when it is missing, unreadable or corrupt."""
    try:
        type_num, raw = store.get_raw(sha)
    except Exception as exc:  # any failure to read only keeps this object where it is
        logger.warning("repack: cannot read object %s (%s); leaving it in place", sha, exc)
        return None
    if obj_sha(type_num, raw, fmt.hash_func) != hex_to_sha(sha):
        logger.warning("repack: object %s does not match its name; leaving it in place", sha)
        return None
    return type_num, raw


class _PackFile:
    """Appends objects to a pack file and keeps the running checksum, offsets and CRCs."""

    def __init__(self, f: BinaryIO, count: int, fmt: ObjectFormat, compression: int) -> None:
        self.f = f
        self.fmt = fmt
        self.compression = compression
        self.hash = fmt.new_hash()
        self.offset = 0
        self.count = 0
        self.offsets: dict[ObjectID, int] = {}
        self.crcs: dict[ObjectID, int] = {}
        for chunk in pack_header_chunks(count):
            self._write(chunk)

    def _write(self, data: bytes) -> None:
        self.f.write(data)
        self.hash.update(data)
        self.offset += len(data)

    def add(self, sha: ObjectID, type_num: int, data: bytes, base: ObjectID | None) -> None:
        """Append ``data``: the whole object, or a delta against ``base`` (already written)."""
        if base is None:
            header = pack_object_header(type_num, None, len(data), self.fmt)
        else:
            distance = self.offset - self.offsets[base]
            header = pack_object_header(OFS_DELTA, distance, len(data), self.fmt)
        body = zlib.compress(data, self.compression)
        self.offsets[sha] = self.offset
        self.crcs[sha] = binascii.crc32(body, binascii.crc32(header)) & 0xFFFFFFFF
        self._write(bytes(header))
        self._write(body)
        self.count += 1

    def finish(self, expected: int) -> bytes:
        """Write the trailing checksum (first fixing the header if fewer objects came)."""
        if self.count != expected:
            self.f.flush()
            self.f.seek(8)
            self.f.write(struct.pack(">L", self.count))
            self.f.flush()
            self.f.seek(0)
            self.hash = self.fmt.new_hash()
            while chunk := self.f.read(1 << 20):
                self.hash.update(chunk)
            self.f.seek(0, os.SEEK_END)
        checksum = self.hash.digest()
        self.f.write(checksum)
        return checksum


def _delta(base: bytes, target: bytes) -> bytes:
    return b"".join(create_delta(base, target))


def write_pack(
    f: BinaryIO,
    store: BaseObjectStore,
    groups: Iterable[Group],
    count: int,
    *,
    max_depth: int,
    fmt: ObjectFormat,
    compression: int = -1,
) -> WrittenPack:
    """Write a pack of the objects in ``groups`` (``count`` in all) to ``f``.

    An object becomes a delta against its planned base when that base was written, is of
    the same type, lies less than ``max_depth`` deep and the delta is under half the object's
    size; otherwise its newer neighbour in the group is tried the same way, and failing both
    it is stored whole. ``f`` must be opened for reading too (``w+b``).
    """
    writer = _Writer(_PackFile(f, count, fmt, compression), store, fmt, max_depth)
    for group in groups:
        writer.write_group(group)
    result = writer.result
    result.checksum = writer.pack.finish(count)
    crcs = writer.pack.crcs
    result.entries = sorted(
        (hex_to_sha(sha), offset, crcs[sha]) for sha, offset in writer.pack.offsets.items()
    )
    return result


@dataclass(slots=True)
class _Writer:
    pack: _PackFile
    store: BaseObjectStore
    fmt: ObjectFormat
    max_depth: int
    result: WrittenPack = field(default_factory=WrittenPack)
    # Per group: content and chain depth of the versions that may still serve as bases.
    contents: dict[int, tuple[int, bytes]] = field(default_factory=dict)
    depths: dict[int, int] = field(default_factory=dict)

    def write_group(self, group: Group) -> None:
        """Write one group, keeping in memory only the versions still needed as bases."""
        # Keep position i's content until every position planning to use it (and i + 1,
        # which may fall back on it) has been written.
        keep_until = list(range(1, len(group.shas) + 1))
        for position, base in enumerate(group.bases):
            if base is not None:
                keep_until[base] = max(keep_until[base], position)
        expiring: dict[int, list[int]] = {}
        for position, until in enumerate(keep_until):
            expiring.setdefault(until, []).append(position)
        self.contents.clear()
        self.depths.clear()
        for position, sha in enumerate(group.shas):
            if sha not in self.pack.offsets and sha not in self.result.skipped:
                self._write_one(group, position)
            for done in expiring.pop(position, []):
                self.contents.pop(done, None)
        self.contents.clear()

    def _write_one(self, group: Group, position: int) -> None:
        """Write ``group.shas[position]``, as a delta if a good base is at hand."""
        sha = group.shas[position]
        loaded = _read_whole(self.store, sha, self.fmt)
        if loaded is None:
            self.result.skipped.add(sha)
            return
        type_num, raw = loaded
        planned = group.bases[position]
        big = len(raw) > BIG_FILE_THRESHOLD
        chosen: tuple[int, bytes] | None = None
        if planned is not None and not big:
            for candidate in dict.fromkeys((planned, position - 1)):
                known = self.contents.get(candidate)
                if (
                    known is None
                    or known[0] != type_num
                    or self.depths[candidate] >= self.max_depth
                ):
                    continue
                delta = _delta(known[1], raw)
                if len(delta) < len(raw) // 2:
                    chosen = (candidate, delta)
                    break
        if chosen is None:
            self.pack.add(sha, type_num, raw, None)
            self.depths[position] = 0
        else:
            base, delta = chosen
            self.pack.add(sha, type_num, delta, group.shas[base])
            self.depths[position] = self.depths[base] + 1
            self.result.deltas += 1
            self.result.max_depth = max(self.result.max_depth, self.depths[position])
        if not big:
            self.contents[position] = (type_num, raw)
