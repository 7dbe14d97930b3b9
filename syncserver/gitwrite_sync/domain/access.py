"""Who may do what on a repository: the roles matrix of DESIGN §7, in ONE place.

=====================  =====  ======  ======  ===========
action                 owner  editor  writer  beta_reader
=====================  =====  ======  ======  ===========
read (fetch, sync)     yes    yes     yes     yes
annotate (and reply)   yes    yes     yes     yes
push_exploration       yes    yes     yes     no
push_main, merge       yes    yes     no      no
force_push             yes    yes     no      no
export                 yes    yes     yes     no
manage, delete         yes    no      no      no
=====================  =====  ======  ======  ===========

Refs map to actions with `action_for_ref`: the default branch ("main story") needs
``push_main``; any other branch (an exploration) ``push_exploration``; a tag (a milestone,
"first draft", "sent to editor") also needs ``push_main``, because a milestone speaks for
the whole project, so editors and owners set them and writers propose work on
explorations; ``refs/gitwrite/annotations`` needs ``annotate`` (beta readers push there
and only there). Any other ref is refused for everyone (`RefNotAllowed`). A push that
would drop saves from a ref (not a fast-forward) also needs ``force_push``.

`require` is the check every REST handler and protocol operation goes through: a user
who is not a collaborator gets `NotFound` (a private project's existence is not leaked);
a collaborator whose role falls short gets `Forbidden`.
"""

from __future__ import annotations

import enum

from dulwich.refs import Ref, check_ref_format
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.db.models import Collaborator, Repository, User
from gitwrite_sync.errors import Forbidden, NotFound, RefNotAllowed

ANNOTATIONS_REF = "refs/gitwrite/annotations"
BRANCH_PREFIX = "refs/heads/"
TAG_PREFIX = "refs/tags/"


class Role(enum.StrEnum):
    OWNER = "owner"
    EDITOR = "editor"
    WRITER = "writer"
    BETA_READER = "beta_reader"


class Action(enum.StrEnum):
    READ = "read"
    ANNOTATE = "annotate"
    PUSH_EXPLORATION = "push_exploration"
    PUSH_MAIN = "push_main"
    MERGE = "merge"
    FORCE_PUSH = "force_push"
    EXPORT = "export"
    MANAGE = "manage"
    DELETE = "delete"


_EVERYONE = frozenset(Role)
_CONTRIBUTORS = frozenset({Role.OWNER, Role.EDITOR, Role.WRITER})
_EDITORS = frozenset({Role.OWNER, Role.EDITOR})
_OWNERS = frozenset({Role.OWNER})

MATRIX: dict[Action, frozenset[Role]] = {
    Action.READ: _EVERYONE,
    Action.ANNOTATE: _EVERYONE,
    Action.PUSH_EXPLORATION: _CONTRIBUTORS,
    Action.PUSH_MAIN: _EDITORS,
    Action.MERGE: _EDITORS,
    Action.FORCE_PUSH: _EDITORS,
    Action.EXPORT: _CONTRIBUTORS,
    Action.MANAGE: _OWNERS,
    Action.DELETE: _OWNERS,
}
"""Action → the roles allowed to do it. The table in this module's docstring, as data."""


def allowed(role: Role | str, action: Action) -> bool:
    """Whether ``role`` may do ``action``; an unknown role may do nothing."""
    try:
        return Role(role) in MATRIX[action]
    except ValueError:
        return False


def action_for_ref(ref_name: str, default_branch: str) -> Action:
    """The action writing ``ref_name`` needs. `RefNotAllowed` for any ref GitWrite does not
    accept (including malformed names, such as ``..`` or control characters)."""
    if ref_name == ANNOTATIONS_REF:
        return Action.ANNOTATE
    for prefix in (BRANCH_PREFIX, TAG_PREFIX):
        if ref_name.startswith(prefix) and len(ref_name) > len(prefix):
            if not check_ref_format(Ref(ref_name.encode("utf-8", "surrogateescape"))):
                raise RefNotAllowed(ref_name, "not a valid ref name")
            if prefix == TAG_PREFIX or ref_name == BRANCH_PREFIX + default_branch:
                return Action.PUSH_MAIN
            return Action.PUSH_EXPLORATION
    raise RefNotAllowed(ref_name)


async def role_of(session: AsyncSession, user_id: int, repo_name: str) -> tuple[Repository, Role]:
    """The repository and the user's role on it; `NotFound` when the user has none."""
    row = (
        await session.execute(
            select(Repository, Collaborator.role)
            .join(Collaborator, Collaborator.repo_id == Repository.id)
            .where(Repository.name == repo_name, Collaborator.user_id == user_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no repository named {repo_name!r}", repository=repo_name)
    repo, role = row
    return repo, Role(role)


async def require(
    session: AsyncSession, user: User, repo_name: str, action: Action
) -> tuple[Repository, Role]:
    """The repository, if ``user`` may do ``action`` on it.

    Raises:
        NotFound: no such repository, or the user is not one of its collaborators.
        Forbidden: the user's role does not allow ``action``.
    """
    repo, role = await role_of(session, user.id, repo_name)
    if not allowed(role, action):
        raise Forbidden(
            f"a {role.value.replace('_', ' ')} may not {action.value.replace('_', ' ')} "
            f"in {repo_name!r}",
            repository=repo_name,
            role=role.value,
            action=action.value,
        )
    return repo, role
