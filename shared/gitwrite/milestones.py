"""Milestones: named points in a project's history ("first draft", "sent to editor").

A milestone is an annotated git tag on a save, so command-line git sees it with
``git tag -n`` and every tool that speaks git keeps it. Tags made by command-line git,
lightweight or annotated, are listed as milestones too.

Names. Writers type names with spaces; git tag names cannot hold them. The tag name is
the typed name with each run of white space turned into one ``-`` ("sent to editor" →
``sent-to-editor``); the typed name is kept in the tag message as a last-line trailer
``GitWrite-Milestone: sent to editor`` (only when it differs from the tag name), and
shown everywhere in GitWrite. Looking a milestone up by either spelling finds it.
Beyond spaces nothing is rewritten: a name git refuses (``~ ^ : ? * [ \\``, ``/``,
``..``, ``@{``, a leading ``.`` or ``-``, a trailing ``.`` or ``.lock``, control
characters) is refused with the reason, so the writer picks the name they will see in
git. A name equal to an exploration's, or to an existing milestone's in any letter case
(the two would be one file on macOS and Windows), is refused as taken.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from dulwich.objects import Commit, ObjectID, Tag
from dulwich.refs import Ref, RefsContainer, check_ref_format

from gitwrite.errors import InvalidName, MilestoneError, MilestoneExists, UnknownMilestone
from gitwrite.model import Author

if TYPE_CHECKING:
    from gitwrite.project import Project

log = logging.getLogger(__name__)

TAGS = b"refs/tags/"
NAME_TRAILER = "GitWrite-Milestone"
MAX_NAME_BYTES = 200
_TRAILER = re.compile(rf"\n*^{NAME_TRAILER}: (?P<name>.+)\n?\Z", re.MULTILINE)
_FORBIDDEN = set("~^:?*[\\")


@dataclass(frozen=True, slots=True)
class Milestone:
    """One milestone. A lightweight tag has no tagger and its save's time as ``time``."""

    name: str
    tag: str
    message: str
    save_id: str
    time: datetime
    tagger: Author | None
    annotated: bool


def tag_name(name: str) -> str:
    """The git tag name for a typed milestone name (white space runs → ``-``), checked."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise InvalidName(name, "must not contain control characters such as line breaks")
    tag = "-".join(name.split())
    if not tag:
        raise InvalidName(name, "is empty")
    bad = sorted(_FORBIDDEN.intersection(tag))
    reason = (
        "must not contain " + " ".join(bad)
        if bad
        else "must not contain /"
        if "/" in tag
        else "must not contain '..' or '@{'"
        if ".." in tag or "@{" in tag
        else "must not start with '.' or '-'"
        if tag[0] in ".-"
        else "must not end with '.' or '.lock'"
        if tag.endswith((".", ".lock"))
        else "is reserved"
        if tag in {"@", "HEAD"}
        else "is too long"
        if len(tag.encode()) > MAX_NAME_BYTES
        else None
    )
    if reason is None and not check_ref_format(Ref(TAGS + tag.encode())):
        reason = "is not a name git can store"
    if reason is not None:
        raise InvalidName(name, reason)
    return tag


def _lookup_name(name: str) -> str:
    """The tag a name refers to, without refusing names only command-line git could make."""
    return "-".join(name.split()) or name


class Milestones:
    """The milestones of one project (``project.milestones``)."""

    def __init__(self, project: Project) -> None:
        self.project = project

    @property
    def _refs(self) -> RefsContainer:
        return self.project.repo.refs

    def create(self, name: str, message: str = "", at: str | None = None) -> Milestone:
        """Mark a save (default: the last save) as a milestone, tagged by the project's author.

        Raises `InvalidName` for a name git cannot store, `MilestoneExists` when the name
        is taken (by a milestone in any letter case, or by an exploration), and
        `UnknownRevision` when ``at`` names no save.
        """
        typed = name.strip()
        tag = tag_name(typed)
        self._check_free(typed, tag)
        commit = self.project.commit(at)
        text = message.strip("\n")
        if typed != tag:
            text = (text + "\n\n" if text else "") + f"{NAME_TRAILER}: {typed}"
        now = int(time.time())
        obj = Tag()
        obj.name = tag.encode()
        obj.object = (Commit, commit.id)
        obj.tagger = self.project.author.identity()
        obj.tag_time = now
        obj.tag_timezone = time.localtime(now).tm_gmtoff
        obj.message = (text + "\n").encode() if text else b""
        self.project.repo.object_store.add_object(obj)
        if not self._refs.add_if_new(Ref(TAGS + obj.name), obj.id):
            raise MilestoneExists(typed, tag, f"milestone {tag!r}")
        made = self._milestone(tag, obj.id)
        assert made is not None  # the tag was just made on a commit
        return made

    def _check_free(self, typed: str, tag: str) -> None:
        folded = tag.casefold()
        for ref in self._refs.keys(base=Ref(TAGS)):
            other = ref.decode("utf-8", "replace")
            if other.casefold() == folded:
                raise MilestoneExists(typed, tag, f"milestone {other!r}")
        if Ref(b"refs/heads/" + tag.encode()) in self._refs:
            raise MilestoneExists(typed, tag, f"exploration {tag!r}")

    def list(self) -> list[Milestone]:
        """Every milestone, newest first (ties by name); tags not on a save are left out."""
        found = []
        for ref, sha in self._refs.as_dict(Ref(TAGS)).items():
            milestone = self._milestone(ref.decode("utf-8", "replace"), sha)
            if milestone is not None:
                found.append(milestone)
        found.sort(key=lambda m: m.name)
        found.sort(key=lambda m: m.time, reverse=True)
        return found

    def get(self, name: str) -> Milestone:
        """The milestone called ``name`` (as typed, or as its git tag name)."""
        tag = _lookup_name(name.strip())
        ref = Ref(TAGS + tag.encode())
        if not check_ref_format(ref) or ref not in self._refs:
            raise UnknownMilestone(name)
        milestone = self._milestone(tag, self._refs[ref])
        if milestone is None:
            raise UnknownMilestone(name)
        return milestone

    def delete(self, name: str) -> Milestone:
        """Remove a milestone (the save itself stays); returns what was removed."""
        milestone = self.get(name)
        ref = Ref(TAGS + milestone.tag.encode())
        sha = self._refs[ref]
        if not self._refs.remove_if_equals(ref, sha):
            raise MilestoneError(f"the milestone {milestone.name!r} changed while deleting it")
        return milestone

    # -- reading tags -------------------------------------------------------------------

    def _milestone(self, tag: str, sha: ObjectID) -> Milestone | None:
        """The milestone a tag ref points at; None (logged) for tags not on a commit."""
        store = self.project.repo.object_store
        try:
            obj = store[sha]
            outer = obj if isinstance(obj, Tag) else None
            while isinstance(obj, Tag):
                obj = store[obj.object[1]]
        except KeyError:
            obj = None
        if not isinstance(obj, Commit):
            log.warning("tag %r does not point at a save; not shown as a milestone", tag)
            return None
        if outer is None:
            return Milestone(
                name=tag,
                tag=tag,
                message="",
                save_id=obj.id.decode(),
                time=_when(obj.commit_time, obj.commit_timezone),
                tagger=None,
                annotated=False,
            )
        name, message = split_name(outer.message.decode("utf-8", "replace"), tag)
        return Milestone(
            name=name,
            tag=tag,
            message=message,
            save_id=obj.id.decode(),
            time=(
                _when(outer.tag_time, outer.tag_timezone or 0)
                if outer.tag_time is not None
                else _when(obj.commit_time, obj.commit_timezone)
            ),
            tagger=_identity(outer.tagger) if outer.tagger else None,
            annotated=True,
        )


def split_name(message: str, tag: str) -> tuple[str, str]:
    """The typed name a tag message records (else the tag name) and the message without it.

    A recorded name that does not map to ``tag`` (the tag was renamed with git) is ignored.
    """
    match = _TRAILER.search(message)
    if match is None:
        return tag, message.rstrip("\n")
    typed = match["name"].strip()
    return typed if _lookup_name(typed) == tag else tag, message[: match.start()].rstrip("\n")


def _when(seconds: int, offset: int) -> datetime:
    return datetime.fromtimestamp(seconds, timezone(timedelta(seconds=offset)))


def _identity(raw: bytes) -> Author:
    name, _, email = raw.decode("utf-8", "replace").partition(" <")
    return Author(name.strip(), email.rstrip(">").strip())
