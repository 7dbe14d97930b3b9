"""The annotation index: every annotation and reply of a project, by file, status and
position, so the sidebar and the editor's margin never read the annotations ref.

It is refilled from ``project.annotations`` whenever the annotations ref has moved since
it was last indexed (the ref's id is kept in ``projects.annotations_head``). Positions
are the ranges recorded when each annotation was made (on its save); where the quote is
now in the edited text is `Annotations.anchor`'s job, asked for the open file only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database

    from gitwrite.annotations import Annotation
    from gitwrite.project import Project


@dataclass(frozen=True, slots=True)
class IndexedAnnotation:
    """An annotation (``parent`` None) or a reply, with its thread's current status."""

    id: str
    parent: str | None
    path: str
    kind: str
    status: str
    start: int
    end: int
    start_line: int
    end_line: int
    quote: str
    body: str
    suggestion: str | None
    author: str
    author_email: str
    time: datetime
    save: str
    replies: int = 0


def _row(project_id: str, record: Annotation) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "id": record.id,
        "parent": record.parent,
        "path": record.path,
        "kind": str(record.kind),
        "status": str(record.status),
        "start": record.range.start,
        "end": record.range.end,
        "start_line": record.range.start_line,
        "end_line": record.range.end_line,
        "quote": record.quote,
        "body": record.body,
        "suggestion": record.suggestion,
        "author": record.author.name,
        "author_email": record.author.email,
        "time": record.time.isoformat(),
        "save": record.save,
    }


class AnnotationIndex:
    """Writes the index of one project (worker thread)."""

    def __init__(self, db: Database, project_id: str) -> None:
        self.db = db
        self.project_id = project_id

    def indexed_head(self) -> str | None:
        row = self.db.execute(
            "SELECT annotations_head FROM projects WHERE id = ?", [self.project_id]
        ).fetchone()
        return row[0] if row else None

    def refresh(self, project: Project) -> set[str]:
        """Re-read the annotations when their ref moved; returns the ids added or whose
        status (or anything else) changed, and those that went away."""
        head = project.annotations.store.head()
        head_id = head.decode() if head is not None else ""  # "": indexed, none yet
        if head_id == self.indexed_head():
            return set()
        rows = []
        for thread in project.annotations.list():
            rows.append(_row(self.project_id, thread.annotation))
            rows.extend(_row(self.project_id, reply) for reply in thread.replies)
        old = {
            r["id"]: r
            for r in self.db.query(
                "SELECT * FROM annotations WHERE project_id = ?", [self.project_id]
            )
        }
        new = {r["id"]: r for r in rows}
        changed = {i for i in set(old) | set(new) if old.get(i) != new.get(i)}
        with self.db.atomic():
            self.db.execute("DELETE FROM annotations WHERE project_id = ?", [self.project_id])
            self.db.table("annotations").insert_all(rows)
            self.db.execute(
                "UPDATE projects SET annotations_head = ? WHERE id = ?",
                [head_id, self.project_id],
            )
        return changed


def _indexed(row: dict[str, Any]) -> IndexedAnnotation:
    return IndexedAnnotation(
        id=row["id"],
        parent=row["parent"],
        path=row["path"],
        kind=row["kind"],
        status=row["status"],
        start=row["start"],
        end=row["end"],
        start_line=row["start_line"],
        end_line=row["end_line"],
        quote=row["quote"],
        body=row["body"],
        suggestion=row["suggestion"],
        author=row["author"],
        author_email=row["author_email"],
        time=datetime.fromisoformat(row["time"]),
        save=row["save"],
        replies=row.get("replies", 0) or 0,
    )


def threads(
    db: Database,
    project_id: str,
    *,
    path: str | None = None,
    status: str | None = None,
    lines: tuple[int, int] | None = None,
) -> list[IndexedAnnotation]:
    """Top-level annotations (with their reply counts) by file and position; optionally
    only one file, one status, or those touching a span of lines (inclusive)."""
    where = ["a.project_id = :project", "a.parent IS NULL"]
    params: dict[str, Any] = {"project": project_id}
    if path is not None:
        where.append("a.path = :path")
        params["path"] = path
    if status is not None:
        where.append("a.status = :status")
        params["status"] = str(status)
    if lines is not None:
        where.append("a.start_line <= :last AND a.end_line >= :first")
        params["first"], params["last"] = lines
    sql = f"""
        SELECT a.*, (SELECT count(*) FROM annotations AS r
                     WHERE r.project_id = a.project_id AND r.parent = a.id) AS replies
        FROM annotations AS a WHERE {" AND ".join(where)}
        ORDER BY a.path, a.start, a.time, a.id
    """
    return [_indexed(row) for row in db.query(sql, params)]


def thread(db: Database, project_id: str, annotation_id: str) -> list[IndexedAnnotation]:
    """An annotation and its replies, oldest first (empty when it is not indexed)."""
    rows = db.query(
        """SELECT * FROM annotations WHERE project_id = :project
           AND (id = :id OR parent = :id
                OR id = (SELECT parent FROM annotations WHERE project_id = :project AND id = :id)
                OR parent = (SELECT parent FROM annotations
                             WHERE project_id = :project AND id = :id))
           ORDER BY parent IS NOT NULL, time, id""",
        {"project": project_id, "id": annotation_id},
    )
    return [_indexed(row) for row in rows]


def status_counts(db: Database, project_id: str) -> dict[str, int]:
    """Threads per status (``{"open": 3, "resolved": 1}``)."""
    return {
        row["status"]: row["n"]
        for row in db.query(
            """SELECT status, count(*) AS n FROM annotations
               WHERE project_id = ? AND parent IS NULL GROUP BY status""",
            [project_id],
        )
    }
