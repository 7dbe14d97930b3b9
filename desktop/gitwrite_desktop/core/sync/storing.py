"""Storing what a fetch brought: loose objects when it is small, else a pack.

`gitwrite.packs.apply_pack` keeps every received pack as a pack file. A desktop that
syncs after every save of every collaborator would gather thousands of tiny packs, and
dulwich looks an object up in each pack in turn: measured with 20 clients, syncing
slowed to a crawl after a few hundred fetches. So, as git does (``fetch.unpackLimit``), a
pack of fewer than `UNPACK_LIMIT` objects is read in memory and its objects stored loose,
after the same checks `apply_pack` makes: the checksum, every delta resolved (a thin
pack's bases must be here), every commit, tree and tag checked as ``git fsck --strict``
would (`gitwrite._packcheck`), and nothing they refer to missing. Nothing is stored
unless all of that holds. Larger packs (a clone, a long time offline) go through
`apply_pack` and stay packs.

The limit is higher than git's 100 because reading in memory also keeps fetches away
from dulwich's memory-mapped pack indexing, which with 20 clients in one process raised
``BufferError: cannot close exported pointers exist`` when closing its mapping (113
times in 981 fetches, for packs of 100 objects or more; never reproduced with the same
pack and repository alone). A large pack that meets it is tried again after a garbage
collection, and otherwise fails this round as a `PackError` (the next round fetches it
again).
"""

from __future__ import annotations

import gc
import io
from typing import TYPE_CHECKING

from dulwich.object_store import MemoryObjectStore
from dulwich.pack import PackData, PackInflater, UnresolvedDeltas

# A private helper of the engine, used as apply_pack uses it: the same checks, one place.
from gitwrite._packcheck import InvalidObject, check_objects
from gitwrite.packs import (
    IncompleteHistory,
    MissingBases,
    PackError,
    apply_pack,
    has_object,
    translate_error,
)

if TYPE_CHECKING:
    from dulwich.objects import ObjectID, ShaFile
    from dulwich.repo import Repo

UNPACK_LIMIT = 1000
RETRIES = 3
_HEADER = 12


def _count(pack: bytes) -> int:
    if len(pack) < _HEADER + 20 or pack[:4] != b"PACK":
        raise PackError("it is not a git pack")
    return int.from_bytes(pack[8:12], "big")


def _inflate(repo: Repo, pack: bytes) -> list[ShaFile]:
    store = repo.object_store
    data: PackData | None = None
    try:
        data = PackData("fetched.pack", file=io.BytesIO(pack), object_format=store.object_format)
        data.check()
        return list(PackInflater.for_pack_data(data, resolve_ext_ref=store.get_raw))
    except UnresolvedDeltas as exc:
        raise MissingBases(s.decode() if isinstance(s, bytes) else s for s in exc.shas) from exc
    except Exception as exc:
        translated = translate_error(exc)  # as `apply_pack` names dulwich's errors
        if translated is exc:
            raise
        raise translated from exc
    finally:
        if data is not None:
            data.close()


def _apply(repo: Repo, pack: bytes) -> set[ObjectID]:
    for _attempt in range(RETRIES):
        try:
            return apply_pack(repo, pack, complete=True)
        except BufferError:
            gc.collect()  # nothing was stored; views kept alive by cycles go
    raise PackError("it could not be stored now (the mapping of its file stayed in use)")


def store_pack(repo: Repo, pack: bytes) -> set[ObjectID]:
    """Check and store a fetched pack (as `apply_pack` with ``complete``); its ids.

    Raises:
        MissingBases, IncompleteHistory, PackError: as `apply_pack` (nothing stored).
    """
    if not pack:
        return set()
    if _count(pack) >= UNPACK_LIMIT:
        return _apply(repo, pack)
    objects = _inflate(repo, pack)
    memory = MemoryObjectStore()
    for obj in objects:
        memory.add_object(obj)
    types = {obj.id: obj.type_num for obj in objects}
    try:
        links = check_objects(memory, types)
    except InvalidObject as exc:
        raise PackError(f"it holds an invalid object ({exc})") from exc
    store = repo.object_store
    lacking = {sha for sha in links - types.keys() if not has_object(store, sha)}
    if lacking:
        raise IncompleteHistory(s.decode() for s in lacking)
    for obj in objects:
        store.add_object(obj)
    return set(types)
