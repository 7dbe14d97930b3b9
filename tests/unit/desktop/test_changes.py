"""Changes: what an operation changed, combined with ``|`` and asked per view."""

from __future__ import annotations

from gitwrite_desktop.core.changes import NOTHING, Changes


def test_changes_combine_and_know_their_projects() -> None:
    saved = Changes(refs=frozenset({("p", "refs/heads/main"), ("p", "HEAD")}))
    written = Changes(files=frozenset({("q", "a.md")}), index=frozenset({"q"}))
    both = saved | written | NOTHING
    assert both.projects == {"p", "q"}
    assert both.files_of("q") == {"a.md"} and both.files_of("p") == set()
    assert both.refs_of("p") == {"refs/heads/main", "HEAD"}
    assert both.history == {"p"}
    assert not both.workspace and (both | Changes(workspace=True)).workspace
    assert Changes(annotations=frozenset({("p", "id")})).annotations_of("p") == {"id"}


def test_nothing_is_false_and_tags_are_not_history() -> None:
    assert not NOTHING and not Changes()
    assert Changes(workspace=True)
    tagged = Changes(refs=frozenset({("p", "refs/tags/draft")}))
    assert tagged and tagged.history == frozenset()
    assert Changes(sync=frozenset({"p"})).projects == {"p"}
