"""How each new object of a push is stored: whole, the pack's own delta, or a new delta.

1. `walk_paths` goes through the new commits, parents first, and pairs every new tree and
   blob with the previous version at the same path (in the first parent's tree): its
   *predecessor*. It also gives the order to store in: each object after its predecessor.
2. `prefetch` reads from the database what the deltas may be made against: the chains of
   stored predecessors and stored pack bases, and the contents of the two candidates in
   each chain (the predecessor itself and its nearest spine version, see
   `gitwrite_sync.storage.deltas`).
3. `build_rows` (pure, for a worker thread) decides each object in order:

   - a delta in the pack whose base is stored (or stored just before it), at a depth
     within the cap and not a spine version, is kept as it came: its compressed bytes are
     copied, nothing is computed;
   - otherwise a tree or blob is made a delta (dulwich's ``create_delta``, Rust) against
     the base `choose_base` picks in its predecessor's chain (or its pack base's chain),
     kept when under half the object's size;
   - everything else is stored whole, reusing the pack's compressed bytes when the
     sender compressed them.
"""

from __future__ import annotations

import stat
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from dulwich.objects import Commit, Tree
from dulwich.pack import create_delta
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.db.models import MAX_DELTA_DEPTH
from gitwrite_sync.storage.deltas import Link, choose_base, is_spine
from gitwrite_sync.storage.objects import NewRow, ObjectStore, StoredInfo
from gitwrite_sync.storage.resolve import (
    BLOB,
    TREE,
    ResolvedPack,
    parse_object,
    stored_tree_entries,
)

COMPRESSION = 6
# A whole object whose pack bytes are this close to its size was sent uncompressed.
_POORLY_COMPRESSED = 0.9
_SMALL = 512


@dataclass(slots=True)
class Plan:
    """New objects in the order to store them, and each one's predecessor by path."""

    order: list[str] = field(default_factory=list)
    predecessors: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Prefetched:
    """What the deltas of a push may need from the database."""

    infos: dict[str, StoredInfo] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)


def _tree_entries(tree: Tree) -> dict[bytes, tuple[int, str]]:
    return {
        e.path: (e.mode, e.sha.decode())
        for e in tree.iteritems()
        if e.path is not None and e.mode is not None and e.sha is not None
    }


class _TreeReader:
    """Trees by id, from the pack or the database, parsed once."""

    def __init__(
        self, session: AsyncSession, store: ObjectStore, repo_id: int, pack: ResolvedPack
    ) -> None:
        self.session, self.store, self.repo_id, self.pack = session, store, repo_id, pack
        self.trees: dict[str, dict[bytes, tuple[int, str]]] = {}

    async def entries(self, oid: str) -> dict[bytes, tuple[int, str]]:
        if oid not in self.trees:
            obj = self.pack.objects.get(oid)
            if obj is not None and isinstance(obj.parsed, Tree):
                self.trees[oid] = _tree_entries(obj.parsed)
            else:
                try:
                    type_num, content = await self.store.read(self.session, self.repo_id, oid)
                except KeyError:
                    type_num, content = 0, b""
                entries = stored_tree_entries(content) if type_num == TREE else []
                self.trees[oid] = {name: (mode, sha) for name, mode, sha in entries}
        return self.trees[oid]

    async def commit_tree(self, oid: str) -> str | None:
        obj = self.pack.objects.get(oid)
        if obj is not None and isinstance(obj.parsed, Commit):
            return str(obj.parsed.tree.decode())
        try:
            type_num, content = await self.store.read(self.session, self.repo_id, oid)
        except KeyError:
            return None
        parsed = parse_object(type_num, content, oid)
        return str(parsed.tree.decode()) if isinstance(parsed, Commit) else None


async def walk_paths(
    session: AsyncSession,
    store: ObjectStore,
    repo_id: int,
    pack: ResolvedPack,
    new_ids: Iterable[str],
) -> Plan:
    """The storing order of ``new_ids`` and their predecessors (see the module docstring)."""
    new = set(new_ids)
    plan = Plan()
    placed: set[str] = set()
    reader = _TreeReader(session, store, repo_id, pack)

    def place(oid: str) -> None:
        if oid in new and oid not in placed:
            placed.add(oid)
            plan.order.append(oid)

    async def walk(tree: str, old: str | None) -> None:
        if tree not in new or tree in placed:
            return
        if old is not None and old != tree:
            plan.predecessors.setdefault(tree, old)
        place(tree)
        before = await reader.entries(old) if old is not None else {}
        for name, (mode, sha) in (await reader.entries(tree)).items():
            if sha not in new or sha in placed:
                continue
            previous = before.get(name)
            same_kind = previous is not None and stat.S_ISDIR(previous[0]) == stat.S_ISDIR(mode)
            if stat.S_ISDIR(mode):
                await walk(sha, previous[1] if previous is not None and same_kind else None)
            else:
                if previous is not None and same_kind and previous[1] != sha:
                    plan.predecessors.setdefault(sha, previous[1])
                place(sha)

    for commit in _parents_first(pack, new):
        parsed = pack.objects[commit].parsed
        assert isinstance(parsed, Commit)
        first = parsed.parents[0].decode() if parsed.parents else None
        parent_tree = await reader.commit_tree(first) if first is not None else None
        place(commit)
        await walk(parsed.tree.decode(), parent_tree)
    for oid in sorted(new - placed, key=lambda o: pack.objects[o].entry):
        place(oid)  # tags, and anything reached only through them
    return plan


def _parents_first(pack: ResolvedPack, new: set[str]) -> list[str]:
    """The new commits of the pack, each after its new parents (oldest first)."""
    commits = {o: p for o in new if isinstance(p := pack.objects[o].parsed, Commit)}
    order: list[str] = []
    state: dict[str, bool] = {}
    for start in sorted(commits, key=lambda c: (commits[c].commit_time, c)):
        stack = [(start, False)]
        while stack:
            oid, expanded = stack.pop()
            if expanded:
                order.append(oid)
                state[oid] = True
                continue
            if oid in state:
                continue
            state[oid] = False
            stack.append((oid, True))
            stack.extend((p.decode(), False) for p in commits[oid].parents if p.decode() in commits)
    return order


async def prefetch(
    session: AsyncSession,
    store: ObjectStore,
    repo_id: int,
    pack: ResolvedPack,
    plan: Plan,
) -> Prefetched:
    """The stored chains and contents `build_rows` may use (see the module docstring)."""
    new = set(plan.order)
    starts = {p for p in plan.predecessors.values() if p not in new}
    starts |= {
        base
        for oid in plan.order
        if (base := pack.objects[oid].base_id) is not None and base not in new
    }
    found = Prefetched()
    for start in sorted(starts):
        chain = await store.chain(session, repo_id, start)
        if not chain:
            continue
        found.infos.update((info.id, info) for info in chain)
        spine = next((i for i in chain[1:] if i.depth == 0 or is_spine(i.id)), None)
        for info in (chain[0], spine):
            if info is not None and info.id not in found.contents:
                if info.id in pack.externals:
                    found.contents[info.id] = pack.externals[info.id][1]
                else:
                    found.contents[info.id] = (await store.read(session, repo_id, info.id))[1]
    return found


def _delta(base: bytes, target: bytes) -> bytes:
    return b"".join(create_delta(base, target))


def build_rows(
    pack: ResolvedPack, plan: Plan, stored: Prefetched, max_depth: int = MAX_DELTA_DEPTH
) -> list[NewRow]:
    """The rows to insert for ``plan.order`` (pure; see the module docstring)."""
    links: dict[str, Link] = {i.id: Link(i.id, i.depth, i.base_id) for i in stored.infos.values()}
    types: dict[str, int] = {i.id: i.type_num for i in stored.infos.values()}
    rows: list[NewRow] = []

    def chain_of(oid: str) -> list[Link]:
        chain: list[Link] = []
        current: str | None = oid
        while current is not None and current in links and len(chain) <= max_depth + 1:
            chain.append(links[current])
            current = links[current].base_id
        return chain

    def content_of(oid: str) -> bytes | None:
        if oid in stored.contents:
            return stored.contents[oid]
        return pack.content(oid) if oid in pack.objects or oid in pack.externals else None

    def whole(oid: str) -> NewRow:
        obj = pack.objects[oid]
        entry = pack.entries[obj.entry]
        if not entry.is_delta:
            body = pack.body(oid)
            if len(body) < _POORLY_COMPRESSED * obj.size or obj.size < _SMALL:
                return NewRow(oid, obj.type_num, obj.size, None, 0, body)
        data = zlib.compress(pack.content(oid), COMPRESSION)
        return NewRow(oid, obj.type_num, obj.size, None, 0, data)

    def decide(oid: str) -> NewRow:
        obj = pack.objects[oid]
        base = obj.base_id
        if base is not None and base in links:
            depth = links[base].depth + 1
            keep = depth <= max_depth and not (obj.type_num in (TREE, BLOB) and is_spine(oid))
            if keep:
                return NewRow(oid, obj.type_num, obj.size, base, depth, pack.body(oid))
        if obj.type_num not in (TREE, BLOB):
            return whole(oid)
        candidate = base if base is not None and base in links else plan.predecessors.get(oid)
        if candidate is None or candidate not in links:
            return whole(oid)
        chosen = choose_base(oid, chain_of(candidate), max_depth)
        if chosen is None or types.get(chosen.id) != obj.type_num:
            return whole(oid)
        base_content = content_of(chosen.id)
        if base_content is None:
            return whole(oid)
        delta = _delta(base_content, pack.content(oid))
        if len(delta) >= obj.size // 2:
            return whole(oid)
        data = zlib.compress(delta, COMPRESSION)
        return NewRow(oid, obj.type_num, obj.size, chosen.id, chosen.depth + 1, data)

    for oid in plan.order:
        row = decide(oid)
        rows.append(row)
        links[oid] = Link(oid, row.depth, row.base_id)
        types[oid] = row.type_num
    return rows
