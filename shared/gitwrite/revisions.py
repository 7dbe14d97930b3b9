"""Turning what a writer names (a save id, an exploration, a milestone, ``HEAD~2``) into
a commit."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dulwich.objects import Commit, ObjectID, Tag

from gitwrite.errors import UnknownRevision

if TYPE_CHECKING:
    from dulwich.repo import Repo

_ANCESTRY = re.compile(r"^(?P<base>.*?)(?P<steps>(?:~\d*|\^)*)$")
_HEX = re.compile(r"^[0-9a-f]{4,40}$")


def peel_to_commit(repo: Repo, sha: ObjectID) -> Commit:
    obj = repo.object_store[sha]
    while isinstance(obj, Tag):
        obj = repo.object_store[obj.object[1]]
    if not isinstance(obj, Commit):
        raise UnknownRevision(sha.decode())
    return obj


def resolve(repo: Repo, revision: str | None) -> Commit:
    """The commit a revision names: ``None``/``HEAD``, an exploration, a milestone, an id
    or unique id prefix, each optionally followed by ``~N`` or ``^`` (first parents)."""
    text = (revision or "HEAD").strip()
    match = _ANCESTRY.match(text)
    assert match is not None  # the pattern matches every string
    base, steps = match["base"] or "HEAD", match["steps"]
    commit = _resolve_base(repo, base, text)
    for step in re.findall(r"~\d*|\^", steps):
        count = int(step[1:] or 1) if step.startswith("~") else 1
        for _ in range(count):
            if not commit.parents:
                raise UnknownRevision(text)
            commit = peel_to_commit(repo, commit.parents[0])
    return commit


def _resolve_base(repo: Repo, name: str, shown: str) -> Commit:
    refs = repo.refs
    candidates = [b"HEAD"] if name == "HEAD" else []
    encoded = name.encode("utf-8", "surrogateescape")
    # Writers type names with spaces; explorations and milestones store them with '-'.
    dashed = "-".join(name.split()).encode("utf-8", "surrogateescape")
    for stored in dict.fromkeys([encoded, dashed]):
        candidates += [b"refs/heads/" + stored, b"refs/tags/" + stored]
    for ref in candidates:
        try:
            sha = refs[ref]  # type: ignore[index]
        except KeyError:
            continue
        return peel_to_commit(repo, sha)
    if _HEX.match(name):
        matches = list(repo.object_store.iter_prefix(encoded))
        if len(matches) == 1:
            try:
                return peel_to_commit(repo, matches[0])
            except KeyError as exc:
                raise UnknownRevision(shown) from exc
    raise UnknownRevision(shown)
