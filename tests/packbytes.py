"""Hand-made packs for tests: whole objects, deltas by offset or id, and broken ones."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from dulwich.object_format import SHA1
from dulwich.objects import ShaFile
from dulwich.pack import OFS_DELTA, REF_DELTA, create_delta, pack_object_header


@dataclass(frozen=True)
class Entry:
    """One pack entry: a whole object (``base`` None), or a delta against ``base``: an
    index of an earlier entry (sent as OFS_DELTA) or a hex id (REF_DELTA)."""

    type_num: int
    data: bytes
    base: int | str | None = None
    level: int = 6


def delta(base: bytes, target: bytes) -> bytes:
    return b"".join(create_delta(base, target))


def resign(pack: bytes | bytearray) -> bytes:
    """``pack`` with its trailing checksum recomputed (after tampering with its body)."""
    body = bytes(pack[:-20])
    return body + hashlib.sha1(body).digest()


def make_pack(entries: Sequence[Entry], *, count: int | None = None) -> bytes:
    parts = [b"PACK", struct.pack(">LL", 2, len(entries) if count is None else count)]
    offset = 12
    offsets: list[int] = []
    for entry in entries:
        offsets.append(offset)
        if entry.base is None:
            header = pack_object_header(entry.type_num, None, len(entry.data), SHA1)
        elif isinstance(entry.base, int):
            distance = offset - offsets[entry.base]
            header = pack_object_header(OFS_DELTA, distance, len(entry.data), SHA1)
        else:
            header = pack_object_header(REF_DELTA, bytes.fromhex(entry.base), len(entry.data), SHA1)
        body = bytes(header) + zlib.compress(entry.data, entry.level)
        parts.append(body)
        offset += len(body)
    data = b"".join(parts)
    return data + hashlib.sha1(data).digest()


def whole_pack(objects: Sequence[ShaFile]) -> bytes:
    """A pack of ``objects``, each whole."""
    return make_pack([Entry(o.type_num, o.as_raw_string()) for o in objects])
