"""gitwrite.syncing.sync_branch against the minimal server: fast-forward, push, prose
merge of diverged saves, conflicts left to the writer, lost races retried."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from gitwrite.client import SyncClient
from gitwrite.errors import MergeInProgress, UnsavedChanges
from gitwrite.project import Project
from gitwrite.syncing import SyncStatus
from tests.builders import make_project, write
from tests.compat.gitcli import fsck, git
from tests.minisync import TOKEN, MiniServer, running

pytestmark = pytest.mark.anyio

PARAGRAPHS = [f"Paragraph {n} says something plain about day {n}." for n in range(24)]
TEXT = "# One\n\n" + "\n\n".join(PARAGRAPHS) + "\n"


def clone(project: Project, dest: Path) -> Project:
    """A second writer's copy: the same saves, its own folder."""
    shutil.copytree(project.root, dest)
    return Project.open(dest)


def edit(project: Project, n: int, words: str) -> None:
    text = project.read("chapter.md")
    write(project, {"chapter.md": text.replace(PARAGRAPHS[n], f"{PARAGRAPHS[n]} {words}", 1)})
    project.save()


async def connect(server: MiniServer) -> SyncClient:
    return await SyncClient.connect(server.url, TOKEN, timeout=10)


@pytest.fixture
def ann(tmp_path: Path) -> Project:
    return make_project(tmp_path / "ann", {"chapter.md": TEXT})


async def test_push_then_fast_forward_then_up_to_date(ann: Project, tmp_path: Path) -> None:
    bob = clone(ann, tmp_path / "bob")
    async with running(tmp_path / "server") as server:
        a, b = await connect(server), await connect(server)
        assert (await a.sync_branch(ann, "novel")).status is SyncStatus.PUSHED
        edit(ann, 3, "Ann wrote this.")
        assert (await a.sync_branch(ann, "novel")).status is SyncStatus.PUSHED
        outcome = await b.sync_branch(bob, "novel")
        assert outcome.status is SyncStatus.FAST_FORWARDED
        assert bob.read("chapter.md") == ann.read("chapter.md")  # on disk, too
        assert bob.status().changes == ()
        assert (await b.sync_branch(bob, "novel")).status is SyncStatus.UP_TO_DATE
        await a.close()
        await b.close()


async def test_diverged_saves_merge_with_the_prose_merge(ann: Project, tmp_path: Path) -> None:
    bob = clone(ann, tmp_path / "bob")
    async with running(tmp_path / "server") as server:
        a, b = await connect(server), await connect(server)
        await a.sync_branch(ann, "novel")
        edit(ann, 2, "Ann's words.")
        edit(bob, 20, "Bob's words.")
        await a.sync_branch(ann, "novel")
        outcome = await b.sync_branch(bob, "novel")
        assert outcome.status is SyncStatus.MERGED and outcome.merges == 1
        text = bob.read("chapter.md")
        assert text.count("Ann's words.") == 1 and text.count("Bob's words.") == 1
        assert (await a.sync_branch(ann, "novel")).status is SyncStatus.FAST_FORWARDED
        assert ann.read("chapter.md") == text
        assert server.refs("novel")["refs/heads/main"] == outcome.head
        fsck(bob.root)
        assert len(git(bob.root, "log", "--format=%P", "-1").split()) == 2  # a merge save
        await a.close()
        await b.close()


async def test_a_real_conflict_is_left_to_the_writer(ann: Project, tmp_path: Path) -> None:
    bob = clone(ann, tmp_path / "bob")
    async with running(tmp_path / "server") as server:
        a, b = await connect(server), await connect(server)
        await a.sync_branch(ann, "novel")
        text = ann.read("chapter.md")
        write(ann, {"chapter.md": text.replace("something plain about day 5", "Ann's day")})
        ann.save()
        write(bob, {"chapter.md": text.replace("something plain about day 5", "Bob's day")})
        bob.save()
        await a.sync_branch(ann, "novel")
        pushed = server.pushes
        outcome = await b.sync_branch(bob, "novel")
        assert outcome.status is SyncStatus.CONFLICTS
        assert outcome.merge is not None and [c.path for c in outcome.merge.conflicts] == [
            "chapter.md"
        ]
        assert server.pushes == pushed  # nothing went to the server
        on_disk = bob.read("chapter.md")
        assert "Ann's day" in on_disk and "Bob's day" in on_disk
        with pytest.raises(MergeInProgress):
            await b.sync_branch(bob, "novel")
        bob.explorations.complete_merge({"chapter.md": on_disk.split("<<<<<<<")[0] + "Both.\n"})
        assert (await b.sync_branch(bob, "novel")).status is SyncStatus.PUSHED
        await a.close()
        await b.close()


async def test_unsaved_changes_block_a_fast_forward_that_would_overwrite_them(
    ann: Project, tmp_path: Path
) -> None:
    bob = clone(ann, tmp_path / "bob")
    async with running(tmp_path / "server") as server:
        a, b = await connect(server), await connect(server)
        await a.sync_branch(ann, "novel")
        edit(ann, 1, "Ann again.")
        await a.sync_branch(ann, "novel")
        write(bob, {"chapter.md": "Bob typed this and did not save.\n"})
        with pytest.raises(UnsavedChanges):
            await b.sync_branch(bob, "novel")
        assert bob.read("chapter.md") == "Bob typed this and did not save.\n"
        await a.close()
        await b.close()


async def test_concurrent_writers_all_land_after_lost_races(ann: Project, tmp_path: Path) -> None:
    async with running(tmp_path / "server") as server:
        first = await connect(server)
        await first.sync_branch(ann, "novel")
        writers = [clone(ann, tmp_path / f"w{n}") for n in range(6)]
        saves: list[str] = []
        for n, writer in enumerate(writers):
            edit(writer, n * 3, f"Writer {n} was here.")
            head = writer.head_id()
            assert head is not None
            saves.append(head.decode())
        clients = [await connect(server) for _ in writers]
        outcomes = await asyncio.gather(
            *(c.sync_branch(w, "novel") for c, w in zip(clients, writers, strict=True))
        )
        assert all(o.status in (SyncStatus.PUSHED, SyncStatus.MERGED) for o in outcomes)
        assert max(o.attempts for o in outcomes) > 1  # some lost a race and tried again
        # every save is in the server's history; after one more round all agree
        for client, writer in zip(clients, writers, strict=True):
            await client.sync_branch(writer, "novel")
        head = server.refs("novel")["refs/heads/main"]
        history = set(git(tmp_path / "server" / "novel", "rev-list", head).split())
        assert set(saves) <= history
        # merges made for lost races were taken back: one merge save per writer at most
        merges = git(tmp_path / "server" / "novel", "rev-list", "--merges", head).split()
        assert len(merges) <= len(writers) - 1
        final = writers[-1].read("chapter.md")
        for n in range(len(writers)):
            assert final.count(f"Writer {n} was here.") == 1
        for client in [first, *clients]:
            await client.close()
