"""A least-recently-used map bounded by the bytes of its values.

Git objects never change once named, so a cache of them by id needs no invalidation,
only a bound. Not thread-safe: each user keeps it on one thread (the event loop, or the
worker thread that resolves one pack).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ByteLRU(Generic[K, V]):
    """Keeps the most recently used values whose sizes add up to at most ``max_bytes``.

    A value larger than a quarter of the bound is not kept (it would push out everything
    else for one use).
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def get(self, key: K) -> V | None:
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item[0]

    def put(self, key: K, value: V, size: int) -> None:
        if size > self.max_bytes // 4:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= old[1]
        self._items[key] = (value, size)
        self.size += size
        while self.size > self.max_bytes and self._items:
            _, (_, dropped) = self._items.popitem(last=False)
            self.size -= dropped

    def clear(self) -> None:
        self._items.clear()
        self.size = 0
