"""Text of files and blobs: decoding, and a small cache of recently used versions."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dulwich.objects import ObjectID


def decode_text(data: bytes) -> str | None:
    """The text of a file, or ``None`` when it is binary (NUL bytes or not UTF-8)."""
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


class TextCache:
    """Recently used blobs with their decoded text, bounded by total size (LRU)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[ObjectID, tuple[bytes, str | None]] = OrderedDict()

    def get(self, sha: ObjectID) -> tuple[bytes, str | None] | None:
        item = self._items.get(sha)
        if item is not None:
            self._items.move_to_end(sha)
        return item

    def put(self, sha: ObjectID, data: bytes, text: str | None) -> None:
        if sha in self._items or len(data) > self.max_bytes:
            return
        self._items[sha] = (data, text)
        self.size += len(data)
        while self.size > self.max_bytes:
            _, (old, _) = self._items.popitem(last=False)
            self.size -= len(old)
