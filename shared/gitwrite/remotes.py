"""What a local repository knows about a server's refs: remote-tracking refs.

After a fetch, every ref of the server is mirrored locally under a name of its own, so the
writer's branches never move behind their back (merging them is a separate step):

* a branch ``refs/heads/X`` of the server is ``refs/remotes/<remote>/X``, as git names
  it (so ``git branch -r`` and ``git log --all`` show it);
* any other ref ``refs/Y`` (milestones ``refs/tags/...``, annotations
  ``refs/gitwrite/annotations``) is ``refs/gitwrite/remotes/<remote>/Y``.

The values of these refs are also what the server is known to have (with all their
history): pushes build thin packs against them and fetches send them as haves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dulwich.objects import ZERO_SHA, Commit, ObjectID, Tag
from dulwich.refs import Ref, check_ref_format

from gitwrite.errors import InvalidName

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from dulwich.repo import Repo

DEFAULT_REMOTE = "origin"
HEADS = "refs/heads/"
_BRANCH_MIRROR = "refs/remotes/"
_OTHER_MIRROR = "refs/gitwrite/remotes/"
MAX_HAVES = 256


def check_remote_name(remote: str) -> str:
    """``remote`` when it can name a folder of refs, else `InvalidName`."""
    if not remote or "/" in remote or not check_ref_format(Ref(f"refs/remotes/{remote}".encode())):
        raise InvalidName(remote, "a server name must be one plain word usable in a ref name")
    return remote


def tracking_ref(remote: str, ref: str) -> str:
    """The local name that mirrors the server's ``ref``."""
    if ref.startswith(HEADS):
        return f"{_BRANCH_MIRROR}{remote}/{ref.removeprefix(HEADS)}"
    return f"{_OTHER_MIRROR}{remote}/{ref.removeprefix('refs/')}"


def server_ref(remote: str, tracking: str) -> str | None:
    """The server's ref that the local ``tracking`` ref mirrors (None if it mirrors none)."""
    branches, others = f"{_BRANCH_MIRROR}{remote}/", f"{_OTHER_MIRROR}{remote}/"
    if tracking.startswith(branches):
        return HEADS + tracking.removeprefix(branches)
    if tracking.startswith(others):
        return "refs/" + tracking.removeprefix(others)
    return None


def _ref(name: str) -> Ref:
    return Ref(name.encode("utf-8"))


def tracked(repo: Repo, remote: str) -> dict[str, ObjectID]:
    """The server's refs as last fetched: server ref name → id."""
    found: dict[str, ObjectID] = {}
    for prefix in (f"{_BRANCH_MIRROR}{remote}/", f"{_OTHER_MIRROR}{remote}/"):
        for key, sha in repo.refs.as_dict(Ref(prefix.rstrip("/").encode())).items():
            name = server_ref(remote, prefix + key.decode("utf-8", "surrogateescape"))
            if name is not None and sha is not None:
                found[name] = sha
    return found


def record(
    repo: Repo, remote: str, refs: Mapping[str, str], *, complete: bool, source: str = ""
) -> None:
    """Mirror the server's ``refs`` (name → id) locally.

    With ``complete`` the mapping is every ref the server has, so mirrors of refs that are
    gone are deleted too. Every id must already be in ``repo`` (fetch checks this first).
    """
    current = tracked(repo, remote)
    message = f"gitwrite: fetch {source}".strip().encode()
    for name, sha in refs.items():
        new = ObjectID(sha.encode())
        if current.get(name) == new:
            continue
        local = _ref(tracking_ref(remote, name))
        if new == ZERO_SHA:
            repo.refs.remove_if_equals(local, None, message=message)
        else:
            repo.refs.set_if_equals(local, None, new, message=message)
    if complete:
        for name in set(current) - set(refs):
            repo.refs.remove_if_equals(_ref(tracking_ref(remote, name)), None, message=message)


def haves(repo: Repo, remote: str, limit: int = MAX_HAVES) -> list[str]:
    """Commits worth telling the server this repository has: the mirrors of its refs
    first (it surely knows them), then the local branches, at most ``limit``."""
    found: dict[ObjectID, None] = dict.fromkeys(tracked(repo, remote).values())
    for sha in repo.refs.as_dict(Ref(b"refs/heads")).values():
        found.setdefault(sha, None)
    for sha in repo.refs.as_dict(Ref(b"refs/gitwrite")).values():
        found.setdefault(sha, None)
    commits = [sha for sha in found if _is_commit(repo, sha)]
    return [sha.decode() for sha in commits[:limit]]


def _is_commit(repo: Repo, sha: ObjectID) -> bool:
    try:
        obj = repo.object_store[sha]
    except KeyError:
        return False
    while isinstance(obj, Tag):
        try:
            obj = repo.object_store[obj.object[1]]
        except KeyError:
            return False
    return isinstance(obj, Commit)


def local_ids(repo: Repo, refs: Iterable[str]) -> dict[str, ObjectID]:
    """The ids of local refs (full names such as ``refs/heads/main``); missing ones left out."""
    out: dict[str, ObjectID] = {}
    for name in refs:
        try:
            out[name] = repo.refs[_ref(name)]
        except KeyError:
            continue
    return out
