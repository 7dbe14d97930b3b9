"""Words written per day, from the saves: one cached row per save with its word counts.

A save's words come from its ``GitWrite-Words`` trailer (`gitwrite.model.SaveInfo`;
saves made elsewhere are diffed once by the engine). The day is the calendar day where
the author was (the save's own time zone), so a writer travelling keeps their days.
Merge saves are kept but not counted: their "added" words are the other exploration's
saves, which are counted already.

Saves are found by walking every branch from its head down to heads walked before
(kept in ``walked_heads``), so a refresh after a save reads one commit, and saves
fetched from a server or made by command-line git are picked up too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from dulwich.refs import Ref

if TYPE_CHECKING:
    from sqlite_utils import Database

    from gitwrite.model import SaveInfo
    from gitwrite.project import Project


@dataclass(frozen=True, slots=True)
class DayWords:
    day: date
    words_added: int
    words_removed: int
    saves: int

    @property
    def net(self) -> int:
        return self.words_added - self.words_removed


def save_row(project_id: str, save: SaveInfo) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "id": save.id,
        "time": save.time.isoformat(),
        "day": save.time.date().isoformat(),
        "author_email": save.email,
        "words_added": save.words_added,
        "words_removed": save.words_removed,
        "merge": int(len(save.parents) > 1),
    }


class SaveLog:
    """Writes the saves of one project (worker thread)."""

    def __init__(self, db: Database, project_id: str) -> None:
        self.db = db
        self.project_id = project_id

    def refresh(self, project: Project) -> int:
        """Walk the saves no refresh has seen yet; returns how many were new."""
        heads = {
            f"refs/heads/{name.decode('utf-8', 'surrogateescape')}": sha
            for name, sha in project.repo.refs.as_dict(Ref(b"refs/heads")).items()
            if sha is not None
        }
        walked = {
            r["ref"]: r["head"]
            for r in self.db.query(
                "SELECT ref, head FROM walked_heads WHERE project_id = ?", [self.project_id]
            )
        }
        moved = {ref: sha for ref, sha in heads.items() if walked.get(ref) != sha.decode()}
        gone = set(walked) - set(heads)
        if not moved and not gone:
            return 0
        known = [sha.encode() for sha in walked.values()]
        present = [sha for sha in known if sha in project.repo.object_store]
        rows = []
        if moved:
            walker = project.repo.get_walker(include=list(moved.values()), exclude=present)
            for entry in walker:
                rows.append(save_row(self.project_id, project.save_info(entry.commit.id.decode())))
        with self.db.atomic():
            before = self.count()
            self.db.table("saves").insert_all(rows, pk=("project_id", "id"), ignore=True)
            for ref in gone:
                self.db.execute(
                    "DELETE FROM walked_heads WHERE project_id = ? AND ref = ?",
                    [self.project_id, ref],
                )
            self.db.table("walked_heads").upsert_all(
                [
                    {"project_id": self.project_id, "ref": ref, "head": sha.decode()}
                    for ref, sha in moved.items()
                ],
                pk=("project_id", "ref"),
            )
            return self.count() - before

    def count(self) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM saves WHERE project_id = ?", [self.project_id]
        ).fetchone()
        return int(row[0])


def words_per_day(
    db: Database,
    project_id: str | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    author_email: str | None = None,
) -> list[DayWords]:
    """Words added and removed per day (oldest first), for one project or all of them,
    optionally between two days (inclusive) and for one author."""
    where = ["merge = 0"]
    params: dict[str, Any] = {}
    if project_id is not None:
        where.append("project_id = :project")
        params["project"] = project_id
    if since is not None:
        where.append("day >= :since")
        params["since"] = since.isoformat()
    if until is not None:
        where.append("day <= :until")
        params["until"] = until.isoformat()
    if author_email is not None:
        where.append("author_email = :email COLLATE NOCASE")
        params["email"] = author_email
    sql = f"""
        SELECT day, sum(words_added) AS added, sum(words_removed) AS removed, count(*) AS n
        FROM saves WHERE {" AND ".join(where)} GROUP BY day ORDER BY day
    """
    return [
        DayWords(date.fromisoformat(r["day"]), r["added"], r["removed"], r["n"])
        for r in db.query(sql, params)
    ]
