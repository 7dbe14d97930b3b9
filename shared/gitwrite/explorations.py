"""Explorations: the branches of a project, named the way a writer names them.

A writer types names with spaces ("darker ending"); git branch names cannot hold them.
The rule, applied everywhere a name is typed:

* surrounding whitespace is dropped and every run of whitespace inside becomes one
  space (the *name*), then each space becomes ``-`` (the *branch*): "darker ending" is
  stored as ``refs/heads/darker-ending``;
* the branch must pass git's own rules (``check_ref_format``), must not start with
  ``-`` and must not be ``HEAD``; otherwise `InvalidName` says why;
* when the name differs from the branch, it is kept in the repository's config as
  ``branch.<branch>.gitwriteName``, the section command-line git itself moves on
  ``git branch -m`` and drops on ``git branch -d``;
* wherever an exploration is asked for, its branch name, its name and anything that
  maps to its branch by the rule above all find it, so "darker ending",
  "darker-ending" and "darker   ending" are one exploration. Names differing only in
  letter case are refused as duplicates, since such branches collide on macOS and
  Windows.

The main story is the branch ``main`` (``master`` in a repository made by older git,
when there is no ``main``); its name is "main story". It cannot be renamed or deleted.

Merging lives in `gitwrite.merging`; `Explorations` exposes it as ``merge``,
``merge_state``, ``abort_merge`` and ``complete_merge``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from dulwich.objects import Commit, ObjectID
from dulwich.refs import Ref, check_ref_format

from gitwrite.ancestry import ancestry
from gitwrite.errors import (
    ExplorationError,
    ExplorationExists,
    InvalidName,
    NotMerged,
    UnknownExploration,
    UnknownRevision,
)
from gitwrite.merging import Merger
from gitwrite.project import DEFAULT_BRANCH

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitwrite.mergestate import MergeState
    from gitwrite.merging import MergeOutcome
    from gitwrite.model import SaveInfo
    from gitwrite.project import Project
    from gitwrite.worktree import TreeEntries

MAIN_STORY = "main story"
HEADS = b"refs/heads/"
NAME_KEY = b"gitwriteName"
_FORCE_WRITE = ObjectID(b"0" * 40)


@dataclass(frozen=True, slots=True)
class Exploration:
    """One exploration as the writer sees it.

    Attributes:
        name: the name shown to the writer ("darker ending", "main story").
        branch: the git branch name ("darker-ending", "main").
        head: the id of its last save.
        current: whether the working folder is on it.
        main: whether it is the main story.
        last_saved: the time of its last save, in the author's time zone.
        merged: whether every save of it is already in the current exploration (true
            for the current one itself).
    """

    name: str
    branch: str
    head: str
    current: bool
    main: bool
    last_saved: datetime
    merged: bool


def normalise_name(name: str) -> str:
    """The name as kept: outer whitespace dropped, inner runs of whitespace one space."""
    return " ".join(name.split())


def branch_for(name: str) -> str:
    """The git branch name for a typed name, or `InvalidName` saying why there is none."""
    if any((ord(c) < 32 and c != " ") or ord(c) == 127 for c in name.strip()):
        raise InvalidName(name, "it must not contain control characters such as line breaks")
    clean = normalise_name(name)
    if not clean:
        raise InvalidName(name, "a name is needed")
    branch = clean.replace(" ", "-")
    reason = _invalid_reason(branch)
    if reason is not None:
        raise InvalidName(name, reason)
    return branch


def _invalid_reason(branch: str) -> str | None:
    if branch == "HEAD" or branch.startswith("-"):
        return "it is reserved by git ('HEAD', or starting with '-')"
    try:
        raw = branch.encode("utf-8")
    except UnicodeEncodeError:
        return "it is not valid text"
    if check_ref_format(Ref(HEADS + raw)):
        return None
    bad = sorted({c for c in branch if c in "~^:?*[\\" or ord(c) < 32 or ord(c) == 127})
    if bad:
        return "it contains " + " ".join(repr(c) for c in bad) + ", which git cannot store"
    if ".." in branch or "@{" in branch:
        return "it contains '..' or '@{', which git cannot store"
    return "git cannot store it (no part may start with '.' or end with '.', '/' or '.lock')"


class Explorations:
    """``project.explorations``: list, create, switch, rename, delete and merge explorations."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.merger = Merger(project, self)

    # -- names ----------------------------------------------------------------------

    def branches(self) -> list[str]:
        """Every branch of the project, sorted."""
        return sorted(
            k.decode("utf-8", "surrogateescape")
            for k in self.project.repo.refs.keys(base=Ref(HEADS))
        )

    @property
    def main_branch(self) -> str:
        """The branch of the main story: ``main``, else ``master`` when only it exists."""
        existing = set(self.branches())
        if DEFAULT_BRANCH not in existing and "master" in existing:
            return "master"
        return DEFAULT_BRANCH

    def display_name(self, branch: str) -> str:
        """The name a writer sees for a branch."""
        return self._display_names([branch])[branch]

    def _display_names(self, branches: list[str]) -> dict[str, str]:
        """Branch → name shown, reading the config once."""
        config = self.project.repo.get_config()
        main = self.main_branch
        names = {}
        for branch in branches:
            try:
                shown = config.get((b"branch", branch.encode()), NAME_KEY).decode(
                    "utf-8", "replace"
                )
            except KeyError:
                shown = branch
            names[branch] = MAIN_STORY if branch == main else shown
        return names

    def branch_of(self, name: str) -> str:
        """The branch of an existing exploration, found by branch name or typed name.

        Raises:
            UnknownExploration: no exploration answers to ``name``.
        """
        branches = self.branches()
        if name in branches:
            return name
        clean = normalise_name(name)
        if clean.casefold() == MAIN_STORY and self.main_branch in branches:
            return self.main_branch
        slug = clean.replace(" ", "-")
        if slug in branches:
            return slug
        for branch, shown in self._display_names(branches).items():
            if shown == clean:
                return branch
        raise UnknownExploration(name)

    def _check_new(self, name: str, *, replacing: str | None = None) -> tuple[str, str]:
        """(name, branch) for a new exploration, refused when it would clash with one."""
        branch = branch_for(name)
        clean = normalise_name(name)
        if clean.casefold() == MAIN_STORY and replacing != self.main_branch:
            raise ExplorationExists(clean, "the main story")
        for other, shown in self._display_names(self.branches()).items():
            if other == replacing:
                continue
            if other.casefold() == branch.casefold() or shown.casefold() == clean.casefold():
                raise ExplorationExists(clean, f"the exploration {shown!r}")
            # refs/heads/a and refs/heads/a/b cannot both exist (a file and a folder).
            if branch.startswith(other + "/") or other.startswith(branch + "/"):
                raise ExplorationError(
                    f"{clean!r} cannot sit beside the exploration {shown!r}: "
                    "one name would be a folder of the other"
                )
        # A milestone of the same name would make the name mean two saves.
        for tag in self.project.repo.refs.keys(base=Ref(b"refs/tags")):
            if tag.decode("utf-8", "replace").casefold() == branch.casefold():
                raise ExplorationExists(clean, f"the milestone {tag.decode()!r}")
        return clean, branch

    def _set_display_name(self, branch: str, name: str) -> None:
        config = self.project.repo.get_config()
        section = (b"branch", branch.encode())
        if name != branch:
            config.set(section, NAME_KEY, name.encode("utf-8"))
        elif config.has_section(section):
            values = config[section]
            if NAME_KEY in values:
                del values[NAME_KEY]
            if not len(values):
                del config[section]
        config.write_to_path()

    # -- reading --------------------------------------------------------------------

    def _commit_of(self, branch: str) -> Commit:
        sha = self.project.repo.refs[Ref(HEADS + branch.encode())]
        obj = self.project.repo.object_store[sha]
        assert isinstance(obj, Commit)
        return obj

    def is_ancestor(self, ancestor: ObjectID, of: ObjectID | None) -> bool:
        """Whether the save ``ancestor`` is ``of`` or one of its earlier saves."""
        return of is not None and ancestry(self.project.repo).is_ancestor(ancestor, of)

    def _describe(self, branches: list[str]) -> list[Exploration]:
        names = self._display_names(branches)
        current_branch, current_head = self.project.current_branch, self.project.head_id()
        main = self.main_branch
        found = []
        for branch in branches:
            commit = self._commit_of(branch)
            current = branch == current_branch
            tz = timezone(timedelta(seconds=commit.author_timezone))
            found.append(
                Exploration(
                    name=names[branch],
                    branch=branch,
                    head=commit.id.decode(),
                    current=current,
                    main=branch == main,
                    last_saved=datetime.fromtimestamp(commit.author_time, tz),
                    merged=current or self.is_ancestor(commit.id, current_head),
                )
            )
        return found

    def list(self) -> list[Exploration]:
        """Every exploration, the main story first, then by name.

        In a repository without any save yet (made elsewhere) the list is empty.
        """
        found = self._describe(self.branches())
        found.sort(key=lambda e: (not e.main, e.name.casefold(), e.branch))
        return found

    def get(self, name: str) -> Exploration:
        """One exploration, by branch name or typed name."""
        return self._describe([self.branch_of(name)])[0]

    def current(self) -> Exploration:
        """The exploration the working folder is on."""
        return self._describe([self.project.current_branch])[0]

    def resolve(self, revision: str | None) -> Commit:
        """The save a writer names: an exploration (by either name), a milestone or a save."""
        if revision is not None:
            try:
                return self._commit_of(self.branch_of(revision))
            except UnknownRevision:
                pass
        return self.project.commit(revision)

    # -- changing -------------------------------------------------------------------

    def create(self, name: str, at: str | None = None, *, switch: bool = False) -> Exploration:
        """Start an exploration at a save (default: the last save of the current one).

        ``at`` may name a save, an exploration or a milestone. With ``switch`` the
        working folder moves to it; when it starts at the current last save, nothing on
        disk changes and unsaved changes come along into the new exploration (nothing
        can be lost); otherwise the rules of `switch` apply and are checked before the
        exploration is made.

        Raises:
            InvalidName: the name cannot be stored.
            ExplorationExists: an exploration has that name (in any letter case).
            UnknownRevision: ``at`` names nothing.
        """
        clean, branch = self._check_new(name)
        start = self.resolve(at)
        carry = start.id == self.project.head_id()
        if switch:
            self.merger.refuse_if_merging("switch explorations")
            if not carry:
                self.project.require_saved(f"switch to {clean!r}")
        ref = Ref(HEADS + branch.encode())
        if not self.project.repo.refs.add_if_new(ref, start.id):
            raise ExplorationExists(clean, f"the exploration {branch!r}")
        self._set_display_name(branch, clean)
        if switch and carry:
            self.project.repo.refs.set_symbolic_ref(Ref(b"HEAD"), ref)
        elif switch:
            self.switch(branch)
        return self.get(branch)

    def switch(self, name: str) -> Exploration:
        """Make the working folder hold the last save of an exploration, and work on it.

        Any unsaved change at all blocks a switch, even in a file both explorations
        hold alike: simplest to explain, and nothing typed is ever overwritten or
        carried silently into another exploration. A merge in progress blocks it too.

        Raises:
            UnknownExploration: no exploration answers to ``name``.
            UnsavedChanges: listing the unsaved files; nothing was changed.
            MergeInProgress: complete or abort the merge first.
        """
        branch = self.branch_of(name)
        if branch == self.project.current_branch:
            return self.get(branch)
        self.merger.refuse_if_merging("switch explorations")
        self.project.require_saved(f"switch to {self.display_name(branch)!r}")
        before = self.project.head_entries()
        target = self._commit_of(branch)
        self._checkout(target.tree, before)
        self.project.repo.refs.set_symbolic_ref(Ref(b"HEAD"), Ref(HEADS + branch.encode()))
        return self.get(branch)

    def _checkout(self, tree_id: ObjectID, before: TreeEntries) -> None:
        """Write ``tree_id`` over a working folder holding ``before``; all or nothing."""
        project = self.project
        try:
            project.checkout_tree(tree_id, previous=before)
        except BaseException:
            touched = set(before) | set(project.tree_entries(tree_id))
            if project.head_id() is not None:
                forced = {p: (0, _FORCE_WRITE) for p in touched}
                project.checkout_tree(project.commit().tree, previous=forced)
            raise

    def rename(self, old: str, new: str) -> Exploration:
        """Give an exploration a new name (and branch); its saves are unchanged.

        Raises:
            ExplorationError: it is the main story, or the new name is taken.
        """
        branch = self.branch_of(old)
        if branch == self.main_branch:
            raise ExplorationError("the main story cannot be renamed")
        clean, new_branch = self._check_new(new, replacing=branch)
        if new_branch == branch:
            self._set_display_name(branch, clean)
            return self.get(branch)
        refs = self.project.repo.refs
        old_ref, new_ref = Ref(HEADS + branch.encode()), Ref(HEADS + new_branch.encode())
        sha = refs[old_ref]
        current = branch == self.project.current_branch
        if not refs.add_if_new(new_ref, sha):
            raise ExplorationExists(clean, f"the exploration {new_branch!r}")
        if current:
            refs.set_symbolic_ref(Ref(b"HEAD"), new_ref)
        if not refs.remove_if_equals(old_ref, sha):
            # Someone saved on it meanwhile: undo, and let the writer try again.
            if current:
                refs.set_symbolic_ref(Ref(b"HEAD"), old_ref)
            refs.remove_if_equals(new_ref, sha)
            raise ExplorationError(f"{old!r} changed while renaming it; try again")
        self._move_config(branch, new_branch)
        self._set_display_name(new_branch, clean)
        self._move_reflog(branch, new_branch)
        return self.get(new_branch)

    def delete(self, name: str, *, force: bool = False) -> Exploration:
        """Delete an exploration (its branch); returns it as it was, so it can be re-made.

        Refused for the main story and the current exploration, and, unless
        ``force``, for one whose saves are in neither the main story nor the current
        exploration (`NotMerged`).
        """
        branch = self.branch_of(name)
        shown = self.display_name(branch)
        if branch == self.main_branch:
            raise ExplorationError("the main story cannot be deleted")
        if branch == self.project.current_branch:
            raise ExplorationError(f"{shown!r} is the current exploration; switch away first")
        gone = self.get(branch)
        sha = ObjectID(gone.head.encode())
        if not force:
            main_head = self._commit_of(self.main_branch).id
            merged = self.is_ancestor(sha, main_head) or self.is_ancestor(
                sha, self.project.head_id()
            )
            if not merged:
                into = [MAIN_STORY, self.current().name]
                raise NotMerged(shown, into[:1] if into[0] == into[1] else into)
        if not self.project.repo.refs.remove_if_equals(Ref(HEADS + branch.encode()), sha):
            raise ExplorationError(f"{shown!r} changed while deleting it; try again")
        config = self.project.repo.get_config()
        section = (b"branch", branch.encode())
        if config.has_section(section):
            del config[section]
            config.write_to_path()
        self._move_reflog(branch, None)
        return gone

    def _move_config(self, old: str, new: str) -> None:
        """Move ``[branch "old"]`` to ``[branch "new"]``, as ``git branch -m`` does."""
        config = self.project.repo.get_config()
        old_section, new_section = (b"branch", old.encode()), (b"branch", new.encode())
        if not config.has_section(old_section):
            return
        for key, value in list(config.items(old_section)):
            config.set(new_section, key, value)
        del config[old_section]
        config.write_to_path()

    def _move_reflog(self, old: str, new: str | None) -> None:
        logs = os.path.join(self.project.repo.controldir(), "logs", "refs", "heads")
        source = os.path.join(logs, *old.split("/"))
        if not os.path.isfile(source):
            return
        if new is None:
            os.remove(source)
            return
        target = os.path.join(logs, *new.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(source, target)

    # -- merging (see gitwrite.merging) ---------------------------------------------

    def merge(self, name: str, message: str | None = None) -> MergeOutcome:
        """Merge exploration ``name`` into the current one; see `Merger.merge`."""
        return self.merger.merge(name, message)

    def merge_state(self) -> MergeState | None:
        """The merge in progress, with its conflicts, or None."""
        return self.merger.state()

    def abort_merge(self) -> None:
        """Put the working folder and index back to exactly the last save; end the merge."""
        self.merger.abort()

    def complete_merge(
        self,
        resolutions: Mapping[str, str | bytes | None] | None = None,
        message: str | None = None,
    ) -> SaveInfo:
        """Write the writer's resolutions and make the merge save; see `Merger.complete`."""
        return self.merger.complete(resolutions, message)
