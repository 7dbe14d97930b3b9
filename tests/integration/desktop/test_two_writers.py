"""Two writers on the real server: offline edits of different chapters meet; the same
paragraph becomes a conflict with both texts, nothing lost, and is resolved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitwrite_desktop.core.operations import WriteFiles
from gitwrite_desktop.core.sync import GetSyncConflicts, ResolveSyncConflict, State
from tests.integration.desktop.clients import Client, register, unique
from tests.integration.desktop.proxy import Proxy
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.integration

CHAPTERS = {
    "chapter-01.md": "# One\n\nIt was a dark night.\n\nThe rain fell.\n",
    "chapter-02.md": "# Two\n\nMorning came.\n\nThe sun rose slowly.\n",
}


@pytest.fixture
def pair(tmp_path: Path, server: ServerProcess, proxy: Proxy) -> Iterator[tuple[Client, Client]]:
    """Ann (owner) shares a project; Bob (editor) clones it. Both go through the proxy."""
    ann = Client(tmp_path / "ann", proxy.url, name="ann")
    bob = Client(tmp_path / "bob", proxy.url, name="bob")
    try:
        ann.sign_in(register(server.base_url, "ann"))
        bob_email = register(server.base_url, "bob")
        bob.sign_in(bob_email)
        ann.project = ann.new_project(CHAPTERS)  # type: ignore[attr-defined]
        repository = unique("novel")
        ann.engine.share(ann.project, ann.account_id, repository).result(60)  # type: ignore[attr-defined]
        ann.engine.invite(ann.account_id, repository, bob_email, "editor").result(60)
        bob.project = bob.clone(repository)  # type: ignore[attr-defined]
        yield ann, bob
    finally:
        ann.close()
        bob.close()


def test_offline_edits_of_different_chapters_both_arrive(
    pair: tuple[Client, Client], proxy: Proxy
) -> None:
    ann, bob = pair
    a, b = ann.project, bob.project  # type: ignore[attr-defined]
    assert bob.read(b, "chapter-01.md") == CHAPTERS["chapter-01.md"]
    proxy.down()
    ann.wait_for(lambda r: r.state is State.OFFLINE)
    bob.wait_for(lambda r: r.state is State.OFFLINE)
    one = CHAPTERS["chapter-01.md"].replace("dark night", "dark and stormy night")
    two = CHAPTERS["chapter-02.md"].replace("slowly", "slowly over the hills")
    saves = [ann.save(a, {"chapter-01.md": one}), bob.save(b, {"chapter-02.md": two})]
    saves.append(ann.save(a, {"chapter-01.md": one + "\nThunder.\n"}))
    proxy.up()
    for client in (ann, bob):
        assert client.engine.wait_idle(60)
    assert ann.engine.sync_now().result(60) is None
    assert bob.engine.wait_idle(60)
    for client, pid in ((ann, a), (bob, b)):
        assert client.read(pid, "chapter-01.md") == one + "\nThunder.\n"
        assert client.read(pid, "chapter-02.md") == two
        assert client.status().state is State.ONLINE
    assert ann.head(a) == bob.head(b)
    history = ann.call_project(a, lambda p: [s.id for s in p.history(50)])
    assert set(saves) <= set(history)


def test_the_same_paragraph_is_a_conflict_with_both_texts_then_resolved(
    pair: tuple[Client, Client], proxy: Proxy
) -> None:
    ann, bob = pair
    pids = {ann.name: ann.project, bob.name: bob.project}  # type: ignore[attr-defined]
    proxy.down()
    for client in (ann, bob):
        client.wait_for(lambda r: r.state is State.OFFLINE)
    base = CHAPTERS["chapter-01.md"]
    texts = {
        "ann": base.replace("It was a dark night.", "It was a bright, cold day."),
        "bob": base.replace("It was a dark night.", "It was midnight in Paris."),
    }
    saves = {c.name: c.save(pids[c.name], {"chapter-01.md": texts[c.name]}) for c in (ann, bob)}
    proxy.up()
    loser = (
        ann
        if ann.wait_for(lambda r: r.state in (State.ONLINE, State.CONFLICT)).state is State.CONFLICT
        else bob
    )
    report = loser.wait_for(lambda r: r.state is State.CONFLICT)
    winner = bob if loser is ann else ann
    assert winner.engine.wait_idle(60)
    assert winner.status().state is State.ONLINE
    assert "chapter-01.md" in report.reason
    lid = pids[loser.name]
    (conflict,) = loser.desktop.call(GetSyncConflicts(lid)).value
    (file,) = conflict.files
    assert file.path == "chapter-01.md"
    assert (file.ours, file.theirs, file.base) == (texts[loser.name], texts[winner.name], base)
    assert "It was a bright, cold day." in (file.proposed or "")
    assert "It was midnight in Paris." in (file.proposed or "")
    # The writer's own text is untouched: on disk, in the last save, nothing to merge.
    assert loser.read(lid, "chapter-01.md") == texts[loser.name]
    assert loser.head(lid) == saves[loser.name]
    assert winner.read(pids[winner.name], "chapter-01.md") == texts[winner.name]
    # Resolved with both sentences: the merge save goes to the server and to the winner.
    both = base.replace(
        "It was a dark night.", "It was a bright, cold day. It was midnight in Paris."
    )
    loser.desktop.call(ResolveSyncConflict(lid, {"chapter-01.md": both}))
    assert loser.engine.wait_idle(60)
    assert loser.status().state is State.ONLINE
    assert winner.engine.wait_idle(60)
    for client in (ann, bob):
        assert client.read(pids[client.name], "chapter-01.md") == both
    assert ann.head(pids["ann"]) == bob.head(pids["bob"])
    history = winner.call_project(pids[winner.name], lambda p: [s.id for s in p.history(50)])
    assert set(saves.values()) <= set(history)  # nothing lost


def test_server_saves_wait_for_unsaved_edits_and_arrive_when_they_are_undone(
    pair: tuple[Client, Client],
) -> None:
    ann, bob = pair
    a, b = ann.project, bob.project  # type: ignore[attr-defined]
    saved = CHAPTERS["chapter-01.md"]
    bob.desktop.call(WriteFiles(b, {"chapter-01.md": saved + "\nBob's draft, not saved.\n"}))
    new = saved.replace("dark night", "dark and stormy night")
    ann.save(a, {"chapter-01.md": new})
    assert ann.engine.wait_idle(60)
    report = bob.wait_for(lambda r: (s := r.share(b)) is not None and bool(s.waiting))
    assert report.share(b).waiting == ("chapter-01.md",)  # type: ignore[union-attr]
    assert "Bob's draft" in bob.read(b, "chapter-01.md")  # the unsaved text is untouched
    # Bob throws his draft away: the server's save comes in with nothing else happening.
    bob.desktop.call(WriteFiles(b, {"chapter-01.md": saved}))
    bob.wait_for(lambda r: (s := r.share(b)) is not None and not s.waiting, timeout=30)
    assert bob.engine.wait_idle(60)
    assert bob.read(b, "chapter-01.md") == new
    assert bob.head(b) == ann.head(a)
