"""The migrations form one line: a single head, revisions numbered 0001, 0002... each
revising the one before (two engineers adding a revision at once would fork it)."""

from __future__ import annotations

import itertools

from alembic.script import ScriptDirectory

from gitwrite_sync.db import migrate


def test_there_is_exactly_one_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert script.get_heads() == [migrate.head()]


def test_revisions_are_numbered_in_order_each_revising_the_previous() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = list(reversed(list(script.walk_revisions())))
    assert [r.revision for r in revisions] == [f"{n:04d}" for n in range(1, len(revisions) + 1)]
    for before, after in itertools.pairwise(revisions):
        assert after.down_revision == before.revision
    assert revisions[0].down_revision is None
