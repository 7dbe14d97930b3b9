"""``GET /repositories/{name}``: a repository as a writer opening it sees it.

Its description and owner, its explorations, its newest saves and every file with its
word count, at the main story's last save or at the save ``at`` names, read in one unit
of work with the features' own queries.
"""

from __future__ import annotations

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import User
from gitwrite_sync.domain.access import Action, require
from gitwrite_sync.domain.content import RepoReader
from gitwrite_sync.domain.explorations.service import list_explorations
from gitwrite_sync.domain.files.service import WordCounts, file_tree
from gitwrite_sync.domain.history.service import summaries
from gitwrite_sync.domain.history.walk import Histories
from gitwrite_sync.domain.repositories.schemas import RepositoryDetail
from gitwrite_sync.domain.repositories.service import person
from gitwrite_sync.domain.sync import SyncService

LATEST = 10


class OverviewService:
    def __init__(
        self, db: Database, sync: SyncService, histories: Histories, words: WordCounts
    ) -> None:
        self.db = db
        self.sync = sync
        self.histories = histories
        self.words = words

    async def detail(self, user: User, name: str, at: str | None = None) -> RepositoryDetail:
        async with self.db.read() as session:
            repo, role = await require(session, user, name, Action.READ)
            owner = await session.get(User, repo.owner_id)
            assert owner is not None
            reader = RepoReader(session, self.sync.objects, repo)
            explorations = await list_explorations(reader, self.histories)
            saves, files, shown = [], [], None
            if at is not None or await reader.head() is not None:
                resolved = await reader.resolve(at)
                shown = resolved.id
                order = await self.histories.order(reader, resolved.id)
                saves = await summaries(reader, order.ids[:LATEST])
                files = await file_tree(reader, resolved.tree, self.words)
            return RepositoryDetail(
                name=repo.name,
                description=repo.description,
                default_branch=repo.default_branch,
                role=role,
                owner=person(owner),
                seq=reader.seq,
                created_at=repo.created_at,
                updated_at=repo.updated_at,
                at=shown,
                explorations=explorations,
                latest_saves=saves,
                files=files,
                words=sum(f.words or 0 for f in files),
            )
