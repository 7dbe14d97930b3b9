"""The search index's background jobs.

- ``index_push`` (enqueued by every accepted push and REST save, with ``repo_id`` in its
  payload): bring that repository's index up to date (`Indexer.index_repository`).
- ``search.catch_up`` (every 15 minutes, and when a worker starts): enqueue ``index_push``
  for every repository whose branches differ from what the index saw, which covers
  repositories pushed to before the index existed and jobs that gave up.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, literal, select

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import Ref, SearchHead
from gitwrite_sync.domain.access import BRANCH_PREFIX
from gitwrite_sync.domain.search.index import index_for
from gitwrite_sync.domain.search.indexer import Indexer, IndexReport
from gitwrite_sync.domain.sync.service import INDEX_JOB
from gitwrite_sync.workers.queue import enqueue
from gitwrite_sync.workers.runner import JobContext, JobRegistry

CATCH_UP_JOB = "search.catch_up"
CATCH_UP_EVERY = timedelta(minutes=15)


async def index_repository(db: Database, repo_id: int) -> IndexReport:
    return await Indexer(db, index_for(db)).index_repository(repo_id)


async def stale_repositories(db: Database) -> list[int]:
    """Repositories with a branch the index has not seen at its current commit, or an
    indexed branch that is gone."""
    ref_branch = literal(BRANCH_PREFIX) + SearchHead.branch
    behind = (
        select(Ref.repo_id)
        .outerjoin(SearchHead, and_(SearchHead.repo_id == Ref.repo_id, ref_branch == Ref.name))
        .where(Ref.name.startswith(BRANCH_PREFIX))
        .where((SearchHead.commit_sha.is_(None)) | (SearchHead.commit_sha != Ref.sha))
    )
    gone = (
        select(SearchHead.repo_id)
        .outerjoin(Ref, and_(Ref.repo_id == SearchHead.repo_id, Ref.name == ref_branch))
        .where(Ref.sha.is_(None))
    )
    async with db.read() as session:
        rows = await session.execute(behind.union(gone))
        return sorted(int(repo_id) for repo_id in rows.scalars())


def register(registry: JobRegistry) -> None:
    @registry.register(INDEX_JOB)
    async def index_push(ctx: JobContext) -> None:
        """Index what changed in the repository ``payload["repo_id"]``."""
        await index_repository(ctx.db, int(ctx.payload["repo_id"]))

    @registry.register(CATCH_UP_JOB, every=CATCH_UP_EVERY)
    async def catch_up(ctx: JobContext) -> None:
        repos = await stale_repositories(ctx.db)
        if repos:
            async with ctx.db.write() as session:
                for repo_id in repos:
                    await enqueue(session, INDEX_JOB, {"repo_id": repo_id, "reason": "catch-up"})


__all__ = ["CATCH_UP_JOB", "INDEX_JOB", "index_repository", "register", "stale_repositories"]
