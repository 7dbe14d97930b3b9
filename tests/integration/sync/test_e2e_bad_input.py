"""Bad input over the real socket, on SQLite and PostgreSQL: each frame is answered with a
clear error (an `Error` with its code, or for a frame over the size limit a close with
code 1009) and nothing on the server changes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from dulwich.objects import Blob, Commit, ObjectID, Tree
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from gitwrite.packs import build_push_pack
from gitwrite.project import Project
from gitwrite.protocol import (
    ZERO_ID,
    Auth,
    Error,
    ErrorCode,
    Hello,
    Push,
    RefUpdate,
    Welcome,
    decode_server,
    encode,
)
from gitwrite.rest import ServerApi
from tests.builders import make_project
from tests.integration.sync.helpers import Person, connect, person, shared_repository
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

MiB = 1024 * 1024
SERVER_ENV = {"GITWRITE_MAX_FRAME_BYTES": str(4 * MiB), "GITWRITE_MAX_PACK_BYTES": str(2 * MiB)}
MAIN = "refs/heads/main"


async def open_raw(server: ServerProcess, token: str) -> ClientConnection:
    ws = await ws_connect(server.ws_url, max_size=None, compression=None)
    await ws.send(encode(Auth(token=token)))
    await ws.send(encode(Hello(version=1)))
    assert isinstance(decode_server(await ws.recv()), Welcome)  # type: ignore[arg-type]
    return ws


async def answer(ws: ClientConnection) -> Error | int:
    """The server's reply to a bad frame: its `Error`, or the close code if it hung up."""
    try:
        while True:
            message = decode_server(await ws.recv())  # type: ignore[arg-type]
            if isinstance(message, Error):
                return message
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd is not None else 1006


def commit_of(tree: Tree, parents: list[ObjectID], message: str = "bad\n") -> Commit:
    commit = Commit()
    commit.tree = tree.id
    commit.parents = parents
    commit.author = commit.committer = b"Mallory <m@example.com>"
    commit.author_time = commit.commit_time = 1_700_000_000
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = message.encode()
    return commit


class Scene:
    """A repository on the server with one save, and a local copy to make bad pushes from."""

    def __init__(self, server: ServerProcess, owner: Person, repo: str, project: Project) -> None:
        self.server, self.owner, self.repo, self.project = server, owner, repo, project
        head = project.head_id()
        assert head is not None
        self.head = head

    def push(self, new: str, pack: bytes, ref: str = MAIN, old: str | None = None) -> bytes:
        update = RefUpdate(ref, old if old is not None else self.head.decode(), new)
        return encode(Push(id=7, repo=self.repo, updates=[update], pack=pack))

    def objects(self, *objs: Blob | Tree | Commit) -> bytes:
        """A pack of exactly these objects, whole (stored locally first to build it)."""
        store = self.project.repo.object_store
        for obj in objs:
            store.add_object(obj)
        tips = [o.id for o in objs if isinstance(o, Commit)] or [objs[-1].id]
        return build_push_pack(self.project.repo, tips, [self.head], max_depth=0)

    def tree_with(self, name: bytes) -> tuple[Blob, Tree]:
        blob = Blob.from_string(b"[core]\n\thooksPath = /tmp/evil\n")
        inner = Tree()
        inner.add(b"config", 0o100644, blob.id)
        tree = Tree()
        tree.add(name, 0o040000, inner.id)
        tree.add(b"chapter.md", 0o100644, Blob.from_string(b"x\n").id)
        self.project.repo.object_store.add_object(inner)
        self.project.repo.object_store.add_object(Blob.from_string(b"x\n"))
        return blob, tree


def bad_tree_push(name: bytes) -> Callable[[Scene], bytes]:
    def make(scene: Scene) -> bytes:
        blob, tree = scene.tree_with(name)
        commit = commit_of(tree, [scene.head])
        return scene.push(commit.id.decode(), scene.objects(blob, tree, commit))

    return make


def missing_parent(scene: Scene) -> bytes:
    """A save whose parent was never sent (the server lacks it and so its history)."""
    store = scene.project.repo.object_store
    trees = []
    for text in (b"the hidden save\n", b"the save on top\n"):
        blob = Blob.from_string(text)
        tree = Tree()
        tree.add(b"chapter.md", 0o100644, blob.id)
        store.add_object(blob)
        store.add_object(tree)
        trees.append(tree)
    hidden = commit_of(trees[0], [scene.head], "hidden\n")
    child = commit_of(trees[1], [hidden.id], "child\n")
    store.add_object(hidden)
    store.add_object(child)
    pack = build_push_pack(scene.project.repo, [child.id], [hidden.id], max_depth=0)
    return scene.push(child.id.decode(), pack)


def unrelated_pack(scene: Scene) -> bytes:
    blob = Blob.from_string(b"something else\n")
    tree = Tree()
    tree.add(b"other.md", 0o100644, blob.id)
    other = commit_of(tree, [scene.head], "other\n")
    claimed = commit_of(tree, [scene.head], "claimed but never sent\n")
    return scene.push(claimed.id.decode(), scene.objects(blob, tree, other))


def corrupt_pack(scene: Scene) -> bytes:
    blob = Blob.from_string(b"words\n" * 100)
    tree = Tree()
    tree.add(b"chapter.md", 0o100644, blob.id)
    commit = commit_of(tree, [scene.head])
    pack = bytearray(scene.objects(blob, tree, commit))
    pack[len(pack) // 2] ^= 0xFF
    return scene.push(commit.id.decode(), bytes(pack))


def oversized_pack(scene: Scene) -> bytes:
    blob = Blob.from_string(os.urandom(3 * MiB))  # incompressible: the pack is over 2 MiB
    tree = Tree()
    tree.add(b"noise.bin", 0o100644, blob.id)
    commit = commit_of(tree, [scene.head])
    return scene.push(commit.id.decode(), scene.objects(blob, tree, commit))


def non_utf8_ref(scene: Scene) -> bytes:
    frame = scene.push(scene.head.decode(), b"", ref="refs/heads/PLACEHOLDER")
    return frame.replace(b"PLACEHOLDER", b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5")


def push_to(ref: str) -> Callable[[Scene], bytes]:
    return lambda scene: scene.push(scene.head.decode(), b"", ref=ref, old=ZERO_ID)


MALFORMED, INVALID_PACK = ErrorCode.MALFORMED.value, ErrorCode.INVALID_PACK.value
MISSING, INVALID_REF = ErrorCode.MISSING_OBJECTS.value, ErrorCode.INVALID_REF.value
TOO_LARGE = ErrorCode.TOO_LARGE.value

CASES: dict[str, tuple[Callable[[Scene], bytes | str], set[str | int]]] = {
    "not MessagePack": (lambda s: b"\xc1\xc1\xc1", {MALFORMED}),
    "a text frame": (lambda s: "hello", {MALFORMED}),
    "an unknown message type": (
        lambda s: msgspec.msgpack.encode({"type": "explode", "id": 3}),
        {MALFORMED},
    ),
    "wrong field types": (
        lambda s: msgspec.msgpack.encode({"type": "list_refs", "id": "x", "repo": 5}),
        {MALFORMED},
    ),
    "an object id that is not one": (lambda s: s.push("z" * 40, b""), {MALFORMED}),
    "an object the server does not have": (lambda s: s.push("ab" * 20, b""), {MISSING}),
    "a pack whose ids do not match the update": (unrelated_pack, {MISSING}),
    "a corrupt pack": (corrupt_pack, {INVALID_PACK}),
    "a pack with a missing parent": (missing_parent, {MISSING}),
    "a frame over the limit": (lambda s: b"\x00" * (5 * MiB), {TOO_LARGE, 1009}),
    "a pack over the limit": (oversized_pack, {TOO_LARGE}),
    "a .git tree entry": (bad_tree_push(b".git"), {INVALID_PACK}),
    "a .GIT tree entry": (bad_tree_push(b".GIT"), {INVALID_PACK}),
    "a .. tree entry": (bad_tree_push(b".."), {INVALID_PACK}),
    "a ref name that is not UTF-8": (non_utf8_ref, {MALFORMED, INVALID_REF}),
    "a ref name with ..": (push_to("refs/heads/a..b"), {INVALID_REF}),
    "a ref outside refs/": (push_to("HEAD"), {INVALID_REF}),
    "a ref of no kind the server keeps": (push_to("refs/hooks/post-receive"), {INVALID_REF}),
}


async def scene_for(server: ServerProcess, tmp_path: Path) -> Scene:
    async with ServerApi(server.base_url) as api:
        owner = await person(api, "owner")
        repo = await shared_repository(api, owner)
    project = make_project(tmp_path / "local", {"chapter.md": "# One\n\nIt begins.\n"})
    async with await connect(server, owner) as client:
        assert (await client.push(repo, project.repo, [MAIN])).status == "ok"
    return Scene(server, owner, repo, project)


async def state(scene: Scene) -> tuple[dict[str, str], int]:
    async with await connect(scene.server, scene.owner) as client:
        refs = await client.list_refs(scene.repo)
    return refs.refs, refs.seq


@pytest.mark.parametrize("case", sorted(CASES))
async def test_bad_input_gets_a_clear_error_and_changes_nothing(
    server: ServerProcess, tmp_path: Path, case: str
) -> None:
    scene = await scene_for(server, tmp_path)
    before = await state(scene)
    make, expected = CASES[case]
    frame = make(scene)
    ws = await open_raw(server, scene.owner.token)
    try:
        await ws.send(frame)
        reply = await answer(ws)
    finally:
        await ws.close()
    code = reply.code if isinstance(reply, Error) else reply
    assert code in expected, (case, reply)
    if isinstance(reply, Error):
        assert reply.message.strip()  # a clear explanation, not an empty one
    assert await state(scene) == before
    # the server still serves everyone afterwards
    async with await connect(server, scene.owner) as client:
        assert (await client.list_refs(scene.repo)).refs == before[0]
