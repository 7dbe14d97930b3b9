"""The services one server process holds, built once at start-up and kept in
``app.state.services`` (handlers receive them by dependency injection, never globally)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import State

from gitwrite_sync.db.engine import Database
from gitwrite_sync.domain.annotations import AnnotationService
from gitwrite_sync.domain.auth import AuthService, Passwords
from gitwrite_sync.domain.explorations import ExplorationService
from gitwrite_sync.domain.files import FileService
from gitwrite_sync.domain.history import HistoryService
from gitwrite_sync.domain.milestones import MilestoneService
from gitwrite_sync.domain.repositories import OverviewService, RepositoryService
from gitwrite_sync.domain.saves import SaveService
from gitwrite_sync.domain.search import SearchService
from gitwrite_sync.domain.sync import SyncService
from gitwrite_sync.domain.users import UserService
from gitwrite_sync.fanout import Fanout, MemoryFanout
from gitwrite_sync.settings import Settings


@dataclass
class Services:
    settings: Settings
    db: Database
    passwords: Passwords
    auth: AuthService
    users: UserService
    repositories: RepositoryService
    fanout: Fanout
    sync: SyncService
    search: SearchService
    saves: SaveService
    files: FileService
    history: HistoryService
    explorations: ExplorationService
    milestones: MilestoneService
    annotations: AnnotationService
    overview: OverviewService

    @classmethod
    def build(cls, settings: Settings, db: Database, fanout: Fanout | None = None) -> Services:
        passwords = Passwords.from_settings(settings)
        fanout = fanout or MemoryFanout()
        sync = SyncService(db, settings, fanout)
        history = HistoryService(db, sync)
        files = FileService(db, settings, sync)
        return cls(
            settings=settings,
            db=db,
            passwords=passwords,
            auth=AuthService(db, settings, passwords),
            users=UserService(db, passwords),
            repositories=RepositoryService(db, sync.objects),
            search=SearchService(db),
            fanout=fanout,
            sync=sync,
            saves=SaveService(db, settings, sync),
            files=files,
            history=history,
            explorations=ExplorationService(db, sync, history.histories),
            milestones=MilestoneService(db, sync),
            annotations=AnnotationService(db, sync),
            overview=OverviewService(db, sync, history.histories, files.words),
        )


def services_of(state: State) -> Services:
    services = state.get("services")
    if not isinstance(services, Services):
        raise RuntimeError("the app is not started: services are built in its lifespan")
    return services
