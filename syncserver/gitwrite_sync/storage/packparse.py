"""Reading a received pack into entries, with every limit checked before the work it bounds.

A pack is ``PACK``, a version (2 or 3), an object count, the objects, and the SHA-1 of all
that. The count is checked against the limit before anything is read, the checksum before
anything is inflated, and each object's declared size before it is inflated (inflating
stops at that size, so a "zip bomb" costs no more than it declares). What comes back is
the entries as they are in the pack: whole objects, or deltas against an offset in the
pack (``OFS_DELTA``) or an object id (``REF_DELTA``, which may name an object the pack does
not hold: a thin pack). Resolving deltas is `gitwrite_sync.storage.resolve`'s job.

Pure: no database, no event loop, so it can run in a worker thread.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass

from dulwich.pack import OFS_DELTA, REF_DELTA

from gitwrite_sync.errors import InvalidPack, TooLarge
from gitwrite_sync.settings import Settings

WHOLE_TYPES = frozenset({1, 2, 3, 4})  # commit, tree, blob, tag
HEADER_BYTES = 12
CHECKSUM_BYTES = 20
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class PackLimits:
    """What one push may carry.

    Attributes:
        max_pack_bytes: Size of the pack itself.
        max_objects: Objects in the pack.
        max_object_bytes: Size of any one object, whole (and of any one delta).
        max_inflated_bytes: All the pack's entries inflated, deltas counted as deltas: the
            memory the entries take.
        max_resolved_bytes: All the objects resolved to their whole content: the CPU a pack
            can ask for (a delta of a few bytes can stand for a 30 MB object).
    """

    max_pack_bytes: int
    max_objects: int
    max_object_bytes: int
    max_inflated_bytes: int
    max_resolved_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> PackLimits:
        return cls(
            max_pack_bytes=settings.max_pack_bytes,
            max_objects=settings.max_objects_per_push,
            max_object_bytes=settings.max_object_bytes,
            max_inflated_bytes=max(8 * settings.max_pack_bytes, settings.max_object_bytes),
            max_resolved_bytes=max(64 * settings.max_pack_bytes, settings.max_object_bytes),
        )


@dataclass(slots=True)
class PackEntry:
    """One object as the pack holds it.

    Attributes:
        offset: Where its header starts in the pack.
        pack_type: 1-4 for a whole object, ``OFS_DELTA`` or ``REF_DELTA``.
        data: The inflated body: the object, or the delta instructions.
        base_offset: For ``OFS_DELTA``, the offset of the base entry.
        base_id: For ``REF_DELTA``, the hex id of the base object.
        body: ``(start, end)`` of the zlib stream in the pack, so a stored object can reuse
            the pack's compression instead of compressing again.
    """

    offset: int
    pack_type: int
    data: bytes
    base_offset: int | None
    base_id: str | None
    body: tuple[int, int]

    @property
    def is_delta(self) -> bool:
        return self.pack_type in (OFS_DELTA, REF_DELTA)


def _varint_header(pack: bytes | memoryview, pos: int) -> tuple[int, int, int]:
    """Type, size and the position after an object header."""
    try:
        byte = pack[pos]
        type_num = (byte >> 4) & 7
        size = byte & 0x0F
        shift = 4
        pos += 1
        while byte & 0x80:
            byte = pack[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if shift > 70:
                raise InvalidPack("an object header does not end", offset=pos)
    except IndexError as exc:
        raise InvalidPack("the pack ends inside an object header", offset=pos) from exc
    return type_num, size, pos


def _ofs_distance(pack: bytes | memoryview, pos: int) -> tuple[int, int]:
    """The backwards distance of an ``OFS_DELTA`` base and the position after it."""
    try:
        byte = pack[pos]
        pos += 1
        distance = byte & 0x7F
        while byte & 0x80:
            byte = pack[pos]
            pos += 1
            distance = ((distance + 1) << 7) | (byte & 0x7F)
            if distance > 1 << 64:
                raise InvalidPack("a delta base offset does not end", offset=pos)
    except IndexError as exc:
        raise InvalidPack("the pack ends inside a delta base offset", offset=pos) from exc
    return distance, pos


def _inflate(view: memoryview, pos: int, end: int, size: int) -> tuple[bytes, int]:
    """Inflate the zlib stream at ``pos`` that must give exactly ``size`` bytes.

    Fed in chunks with the output capped at ``size + 1``, so no stream yields more than
    it declared. Returns the data and the position just after the stream.
    """
    inflater = zlib.decompressobj()
    out: list[bytes] = []
    produced = 0
    start = pos
    try:
        while not inflater.eof:
            if pos >= end:
                raise InvalidPack("the pack ends inside an object's data", offset=start)
            chunk = view[pos : min(end, pos + _CHUNK)]
            piece = inflater.decompress(chunk, size - produced + 1)
            produced += len(piece)
            out.append(piece)
            if produced > size or inflater.unconsumed_tail:
                raise InvalidPack("an object is larger than its header says", offset=start)
            pos += len(chunk) - len(inflater.unused_data)
    except zlib.error as exc:
        raise InvalidPack(f"an object's data does not inflate ({exc})", offset=start) from exc
    if produced != size:
        raise InvalidPack("an object is smaller than its header says", offset=start)
    return b"".join(out), pos


def check_header(pack: bytes, limits: PackLimits) -> int:
    """Check size, signature, version, object count and checksum; return the count."""
    if len(pack) > limits.max_pack_bytes:
        raise TooLarge(
            f"the pack is {len(pack)} bytes, over the limit of {limits.max_pack_bytes}",
            limit=str(limits.max_pack_bytes),
            size=str(len(pack)),
        )
    if len(pack) < HEADER_BYTES + CHECKSUM_BYTES or pack[:4] != b"PACK":
        raise InvalidPack("not a git pack")
    version, count = struct.unpack(">LL", pack[4:12])
    if version not in (2, 3):
        raise InvalidPack(f"pack version {version} is not supported")
    if count > limits.max_objects:
        raise TooLarge(
            f"the pack holds {count} objects, over the limit of {limits.max_objects}",
            limit=str(limits.max_objects),
            count=str(count),
        )
    view = memoryview(pack)
    if hashlib.sha1(view[:-CHECKSUM_BYTES]).digest() != pack[-CHECKSUM_BYTES:]:
        raise InvalidPack("the pack's checksum does not match its contents")
    return int(count)


def parse_pack(pack: bytes, limits: PackLimits) -> list[PackEntry]:
    """The entries of ``pack``, in pack order.

    Raises:
        TooLarge: the pack, its object count, an object or all of them inflated are over
            ``limits``.
        InvalidPack: not a pack, a bad checksum, or data that does not parse.
    """
    count = check_header(pack, limits)
    end = len(pack) - CHECKSUM_BYTES
    view = memoryview(pack)[:end]  # reading into the checksum fails like reading past the end
    pos = HEADER_BYTES
    entries: list[PackEntry] = []
    starts: set[int] = set()
    inflated = 0
    for _ in range(count):
        offset = pos
        pack_type, size, pos = _varint_header(view, pos)
        base_offset: int | None = None
        base_id: str | None = None
        if pack_type == OFS_DELTA:
            distance, pos = _ofs_distance(view, pos)
            base_offset = offset - distance
            if base_offset not in starts:
                raise InvalidPack("a delta's base offset is not an object", offset=offset)
        elif pack_type == REF_DELTA:
            if pos + 20 > end:
                raise InvalidPack("the pack ends inside a delta base id", offset=offset)
            base_id = bytes(view[pos : pos + 20]).hex()
            pos += 20
        elif pack_type not in WHOLE_TYPES:
            raise InvalidPack(f"unknown object type {pack_type}", offset=offset)
        limit = limits.max_object_bytes * (2 if base_offset is not None or base_id else 1)
        if size > limit:
            raise TooLarge(
                f"an object of {size} bytes is over the limit of {limits.max_object_bytes}",
                limit=str(limits.max_object_bytes),
                size=str(size),
            )
        inflated += size
        if inflated > limits.max_inflated_bytes:
            raise TooLarge(
                f"the pack inflates to more than {limits.max_inflated_bytes} bytes",
                limit=str(limits.max_inflated_bytes),
            )
        body_start = pos
        data, pos = _inflate(view, pos, end, size)
        entries.append(PackEntry(offset, pack_type, data, base_offset, base_id, (body_start, pos)))
        starts.add(offset)
    if pos != end:
        raise InvalidPack("the pack has data after its last object")
    return entries


def delta_sizes(delta: bytes) -> tuple[int, int]:
    """The base size and result size a delta declares (git's two leading varints)."""
    sizes: list[int] = []
    pos = 0
    try:
        for _ in range(2):
            value = shift = 0
            while True:
                byte = delta[pos]
                pos += 1
                value |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
                if shift > 70:
                    raise InvalidPack("a delta's size does not end")
            sizes.append(value)
    except IndexError as exc:
        raise InvalidPack("a delta ends inside its header") from exc
    return sizes[0], sizes[1]
