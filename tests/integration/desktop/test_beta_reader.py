"""A beta reader on the real server: annotations made offline reach the owner (and the
owner's reach them: the annotations merge as a union); their saves to the main story are
refused, reported, and kept on their computer."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitwrite_desktop.core.operations import Annotate, AnnotationThreads
from gitwrite_desktop.core.sync import State
from tests.integration.desktop.clients import Client, register, unique
from tests.integration.desktop.proxy import Proxy
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.integration

TEXT = "# One\n\nIt was a dark night.\n\nThe rain fell on the roof.\n"


def annotate(client: Client, pid: str, quote: str, body: str) -> str:
    start = TEXT.index(quote)
    made = client.desktop.call(
        Annotate(pid, "chapter-01.md", start, start + len(quote), "comment", body)
    )
    return made.value.id


def test_offline_annotations_reach_the_owner_and_text_pushes_are_refused(
    tmp_path: Path, server: ServerProcess, proxy: Proxy
) -> None:
    owner = Client(tmp_path / "owner", proxy.url, name="owner")
    reader = Client(tmp_path / "reader", proxy.url, name="reader")
    try:
        owner.sign_in(register(server.base_url, "owner"))
        reader_email = register(server.base_url, "reader")
        reader.sign_in(reader_email)
        pid = owner.new_project({"chapter-01.md": TEXT})
        repository = unique("novel")
        owner.engine.share(pid, owner.account_id, repository).result(60)
        owner.engine.invite(owner.account_id, repository, reader_email, "beta_reader").result(60)
        rid = reader.clone(repository)

        proxy.down()
        for client in (owner, reader):
            client.wait_for(lambda r: r.state is State.OFFLINE)
        notes = [
            annotate(reader, rid, "dark night", "Which night? Give it a date."),
            annotate(reader, rid, "rain fell", "Lovely."),
        ]
        own_note = annotate(owner, pid, "It was", "Start stronger.")
        edited = TEXT.replace("The rain fell on the roof.", "The rain drummed on the roof.")
        reader_save = reader.save(rid, {"chapter-01.md": edited})
        proxy.up()

        report = reader.wait_for(lambda r: r.state is State.ERROR)
        assert "refused your saves to the main story" in report.reason
        assert "kept on this computer" in report.reason
        assert owner.engine.wait_idle(60) and reader.engine.wait_idle(60)
        owner.engine.sync_now().result(60)

        threads = owner.desktop.call(AnnotationThreads(pid)).value
        assert {t.id for t in threads} == {*notes, own_note}
        assert {t.id for t in reader.desktop.call(AnnotationThreads(rid)).value} == {
            *notes,
            own_note,
        }
        # The text push was refused: the server and the owner keep the old text...
        assert owner.read(pid, "chapter-01.md") == TEXT
        # ...and the reader keeps theirs, on disk and in their history.
        assert reader.read(rid, "chapter-01.md") == edited
        history = reader.call_project(rid, lambda p: [s.id for s in p.history(20)])
        assert reader_save in history
        assert reader.status().state is State.ERROR  # still reported, never retried silently
    finally:
        owner.close()
        reader.close()
