"""The tour ``make run`` shows (until the server exists) runs through on the real novel."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitwrite.demo import find_corpus, run_demo
from tests.compat.gitcli import fsck, git
from tests.corpus import CORPUS


@pytest.mark.compat
def test_demo_runs_on_pride_and_prejudice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = find_corpus(str(CORPUS))
    assert corpus == CORPUS
    project = run_demo(tmp_path / "demo", corpus)
    out = capsys.readouterr().out
    assert "saved 61 chapters" in out
    assert "[-single man][+wealthy bachelor]" in out
    assert "merged: chapter-61.md changed" in out
    fsck(project.root)
    assert git(project.root, "status", "--porcelain") == ""
    assert "first-draft" in git(project.root, "tag")
