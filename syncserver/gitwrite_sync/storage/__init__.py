"""Git data of every repository, in the database: objects, refs, the event log.

- Objects (`objects`): one row each, whole or a delta along the versions of a path
  (`deltas`, `plan`), read back through an in-process cache.
- Taking in a pack (`ingest`): parse and check (`packparse`, `resolve`), connectivity
  (`graph`), then store in the caller's transaction.
- Giving out a pack (`packout`): the stored rows as they are, thin against what the
  client has.
- Refs and events (`refs`): compare-and-swap, gap-free sequence numbers, retention and
  replay. The commit index (`commits`).

Errors are the server's domain errors (`gitwrite_sync.errors`): `InvalidPack`,
`MissingObjects`, `TooLarge`, `StaleRef`, `NotFound`; dulwich's exceptions stop here.
"""

from gitwrite_sync.storage.cache import ByteLRU
from gitwrite_sync.storage.commits import index_commits
from gitwrite_sync.storage.graph import CommitGraph, new_objects
from gitwrite_sync.storage.ingest import Prepared, ingest_pack, prepare, read_pack, remember, store
from gitwrite_sync.storage.objects import CorruptObject, NewRow, ObjectStore, StoredInfo
from gitwrite_sync.storage.packout import FetchPack, build_fetch_pack
from gitwrite_sync.storage.packparse import PackLimits, parse_pack
from gitwrite_sync.storage.refs import (
    EventRecord,
    RefChange,
    Replay,
    apply_changes,
    compare_and_swap,
    list_refs,
    refs_and_seq,
    replay,
    trim_events,
)
from gitwrite_sync.storage.resolve import IncomingObject, ResolvedPack

__all__ = [
    "ByteLRU",
    "CommitGraph",
    "CorruptObject",
    "EventRecord",
    "FetchPack",
    "IncomingObject",
    "NewRow",
    "ObjectStore",
    "PackLimits",
    "Prepared",
    "RefChange",
    "Replay",
    "ResolvedPack",
    "StoredInfo",
    "apply_changes",
    "build_fetch_pack",
    "compare_and_swap",
    "index_commits",
    "ingest_pack",
    "list_refs",
    "new_objects",
    "parse_pack",
    "prepare",
    "read_pack",
    "refs_and_seq",
    "remember",
    "replay",
    "store",
    "trim_events",
]
