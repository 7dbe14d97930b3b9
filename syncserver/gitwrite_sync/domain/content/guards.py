"""The role a change to a ref needs, checked before any work is done for it."""

from __future__ import annotations

from gitwrite_sync.db.models import Repository
from gitwrite_sync.domain.access import Role, action_for_ref, allowed
from gitwrite_sync.errors import Forbidden


def require_ref(repo: Repository, role: Role, ref: str) -> None:
    """`Forbidden` unless ``role`` may move ``ref`` (the same rule a push follows)."""
    action = action_for_ref(ref, repo.default_branch)
    if not allowed(role, action):
        raise Forbidden(
            f"a {role.value.replace('_', ' ')} may not change {ref} in {repo.name!r}",
            repository=repo.name,
            role=role.value,
            action=action.value,
            ref=ref,
        )
