"""The byte-bounded LRU the object store keeps in front of the database."""

from __future__ import annotations

from gitwrite_sync.storage.cache import ByteLRU


def test_least_recently_used_goes_first_when_over_the_bound() -> None:
    cache: ByteLRU[str, bytes] = ByteLRU(100)
    cache.put("a", b"a" * 20, 20)
    cache.put("b", b"b" * 20, 20)
    assert cache.get("a") is not None  # "b" is now the least recently used
    cache.put("c", b"c" * 20, 20)
    cache.put("d", b"d" * 20, 20)
    cache.put("e", b"e" * 25, 25)
    assert "b" not in cache and "a" in cache
    assert cache.size <= 100


def test_a_value_over_a_quarter_of_the_bound_is_not_kept() -> None:
    cache: ByteLRU[str, bytes] = ByteLRU(100)
    cache.put("big", b"x" * 30, 30)
    assert cache.get("big") is None and cache.size == 0


def test_putting_again_replaces_and_counts_once() -> None:
    cache: ByteLRU[str, bytes] = ByteLRU(100)
    cache.put("a", b"1", 10)
    cache.put("a", b"2", 12)
    assert cache.get("a") == b"2" and cache.size == 12 and len(cache) == 1
    assert (cache.hits, cache.misses) == (1, 0)
