"""Storage fixtures: a fresh migrated database (SQLite, then PostgreSQL), a repository row
in it, and writers' projects made from the novels in the shared corpus."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dulwich.objects import ObjectID
from sqlalchemy import func, select

from gitwrite.project import Project
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import GitObject, Repository, User
from gitwrite_sync.storage import ObjectStore, PackLimits
from tests.builders import build_history, make_project
from tests.corpus import chapters

LIMITS = PackLimits(
    max_pack_bytes=8 << 20,
    max_objects=10_000,
    max_object_bytes=4 << 20,
    max_inflated_bytes=64 << 20,
    max_resolved_bytes=512 << 20,
)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def make_repository(db: Database, name: str = "novel") -> int:
    now = datetime.now(UTC)
    async with db.write() as session:
        user = User(
            email=f"{name}@example.com", display_name=name, password_hash="x", created_at=now
        )
        session.add(user)
        await session.flush()
        repo = Repository(owner_id=user.id, name=name, created_at=now, updated_at=now)
        session.add(repo)
        await session.flush()
        return repo.id


@pytest.fixture
async def repo_id(db: Database) -> int:
    return await make_repository(db)


@pytest.fixture
def objects() -> ObjectStore:
    return ObjectStore()


def novel_project(root: Path, saves: int = 6, chapter_count: int = 3) -> Project:
    """A project of the first chapters of Pride and Prejudice, then ``saves`` saves that
    each rewrite a sentence of one chapter (and, every third save, add a note)."""
    texts = {name: text for name, text in chapters()[:chapter_count]}
    project = make_project(root, texts)
    names = sorted(texts)
    specs = []
    for n in range(saves):
        name = names[n % len(names)]
        texts[name] = texts[name].replace("\n\n", f"\n\nA new sentence, number {n}.\n\n", 1)
        spec: dict[str, str | None] = {name: texts[name]}
        if n % 3 == 2:
            spec[f"notes/note-{n}.md"] = f"Remember save {n}.\n"
        specs.append(spec)
    build_history(project, specs)
    return project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    made = novel_project(tmp_path / "writer")
    yield made
    made.close()


def head(project: Project) -> ObjectID:
    sha = project.head_id()
    assert sha is not None
    return sha


def first_parent_line(project: Project) -> list[ObjectID]:
    """The saves of the current branch, oldest first."""
    line: list[ObjectID] = []
    sha: ObjectID | None = head(project)
    while sha is not None:
        line.append(sha)
        parents = project.repo[sha].parents
        sha = parents[0] if parents else None
    return line[::-1]


async def stored_bytes(db: Database, repo_id: int) -> tuple[int, int, int]:
    """Bytes of object data, rows, and rows stored whole."""
    async with db.read() as session:
        total, rows = (
            await session.execute(
                select(func.coalesce(func.sum(func.length(GitObject.data)), 0), func.count()).where(
                    GitObject.repo_id == repo_id
                )
            )
        ).one()
        whole = (
            await session.execute(
                select(func.count()).where(
                    GitObject.repo_id == repo_id, GitObject.base_sha.is_(None)
                )
            )
        ).scalar_one()
    return int(total), int(rows), int(whole)
