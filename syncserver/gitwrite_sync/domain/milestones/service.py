"""Milestones over REST: annotated tags, named as the desktop names them.

`gitwrite.milestones` gives the rules: "sent to editor" is the tag ``sent-to-editor``,
with the typed name kept in the tag message (``GitWrite-Milestone:`` trailer) when it
differs; a name git refuses is refused with the reason; a name taken by a milestone
(in any letter case) or an exploration is taken. The tag object is stored like any
object and its ref made through the sync service's push, which lets owners and editors
set milestones (a milestone speaks for the whole project).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from dulwich.objects import Commit, ObjectID, Tag

from gitwrite.errors import InvalidName
from gitwrite.milestones import NAME_TRAILER, split_name, tag_name
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import User
from gitwrite_sync.domain.access import BRANCH_PREFIX, TAG_PREFIX, Action, require
from gitwrite_sync.domain.content import RepoReader, apply, author_of, require_ref
from gitwrite_sync.domain.history.schemas import Identity
from gitwrite_sync.domain.milestones.schemas import Milestone
from gitwrite_sync.domain.sync import SyncService
from gitwrite_sync.errors import Conflict, InvalidInput


async def list_milestones(reader: RepoReader) -> list[Milestone]:
    """Every tag on a save, newest first (ties by name)."""
    refs = await reader.refs()
    tags = {r.removeprefix(TAG_PREFIX): sha for r, sha in refs.items() if r.startswith(TAG_PREFIX)}
    objects = await reader.many(set(tags.values()))
    found = []
    for tag, sha in tags.items():
        obj = objects.get(sha)
        if isinstance(obj, Tag):
            target = await reader.commit(obj.object[1].decode())
            name, message = split_name(obj.message.decode("utf-8", "replace"), tag)
            tagger = _identity(obj.tagger) if obj.tagger else None
            when = _when(obj.tag_time, obj.tag_timezone or 0)
            found.append(Milestone(name, tag, message, target.id.decode(), when, tagger, True))
        elif isinstance(obj, Commit):
            when = _when(obj.commit_time, obj.commit_timezone)
            found.append(Milestone(tag, tag, "", sha, when, None, False))
    found.sort(key=lambda m: m.name)
    found.sort(key=lambda m: m.time, reverse=True)
    return found


def _when(seconds: int, offset: int) -> datetime:
    return datetime.fromtimestamp(seconds, timezone(timedelta(seconds=offset)))


def _identity(raw: bytes) -> Identity:
    name, _, email = raw.decode("utf-8", "replace").partition(" <")
    return Identity(name.strip(), email.rstrip(">").strip())


class MilestoneService:
    def __init__(self, db: Database, sync: SyncService) -> None:
        self.db = db
        self.sync = sync

    async def list(self, user: User, repo_name: str) -> list[Milestone]:
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            return await list_milestones(RepoReader(session, self.sync.objects, repo))

    async def create(
        self, user: User, repo_name: str, name: str, message: str, at: str | None
    ) -> Milestone:
        """Mark the save ``at`` names (default: the main story's last save).

        Raises:
            InvalidInput: a name git cannot store.
            Conflict: the name is taken.
            Forbidden: writers and beta readers set no milestones.
        """
        typed = name.strip()
        try:
            tag = tag_name(typed)
        except InvalidName as exc:
            raise InvalidInput(str(exc), field="name", reason=exc.reason) from exc
        ref = TAG_PREFIX + tag
        async with self.db.read() as session:
            repo, role = await require(session, user, repo_name, Action.READ)
            require_ref(repo, role, ref)
            reader = RepoReader(session, self.sync.objects, repo)
            for other in await reader.refs():
                if other.startswith(TAG_PREFIX) and other.casefold() == ref.casefold():
                    raise Conflict(
                        f"the milestone {other[len(TAG_PREFIX) :]!r} exists", field="name"
                    )
                if other == BRANCH_PREFIX + tag:
                    raise Conflict(f"the exploration {tag!r} has that name", field="name")
            target = await reader.resolve(at)
        text = message.strip("\n")
        if typed != tag:
            text = (text + "\n\n" if text else "") + f"{NAME_TRAILER}: {typed}"
        obj = Tag()
        obj.name = tag.encode("utf-8")
        obj.object = (Commit, ObjectID(target.id.encode()))
        obj.tagger = author_of(user).identity()
        obj.tag_time = int(datetime.now(UTC).timestamp())
        obj.tag_timezone = 0
        obj.message = (text + "\n").encode("utf-8") if text else b""
        await apply(self.sync, user, repo_name, ref, None, obj.id.decode(), [obj])
        name_shown, body = split_name(obj.message.decode("utf-8"), tag)
        return Milestone(
            name_shown,
            tag,
            body,
            target.id,
            _when(obj.tag_time, 0),
            _identity(obj.tagger),
            True,
        )
