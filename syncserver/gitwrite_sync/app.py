"""The Litestar application, built by `create_app` from `Settings`.

Start-up opens the database (`Database`), builds the `Services` into ``app.state``, and on
the embedded default starts the background worker in-process; shutdown stops the worker
and closes the pools. Errors become JSON responses in `gitwrite_sync.web.errors` only.
OpenAPI is served at ``/schema`` (``/schema/openapi.json``), with interactive
documentation at ``/docs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from gitwrite_sync.db.engine import Database
from gitwrite_sync.domain.auth.controller import AuthController
from gitwrite_sync.domain.repositories.controller import RepositoryController
from gitwrite_sync.domain.search.controller import SearchController
from gitwrite_sync.domain.sync.websocket import sync_routes
from gitwrite_sync.domain.team import team_routes
from gitwrite_sync.fanout import Fanout
from gitwrite_sync.services import Services
from gitwrite_sync.settings import Settings
from gitwrite_sync.web.deps import DEPENDENCIES
from gitwrite_sync.web.docs import OPENAPI_PATH, docs, render_plugins
from gitwrite_sync.web.errors import EXCEPTION_HANDLERS, document_errors
from gitwrite_sync.web.health import health
from gitwrite_sync.workers.jobs import default_registry
from gitwrite_sync.workers.runner import Worker

log = logging.getLogger(__name__)


def _lifespan(
    settings: Settings, fanout: Fanout | None
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        services = app.state.services = Services.build(settings, db, fanout)
        await services.fanout.start()
        stop = asyncio.Event()
        worker_task = None
        if settings.embedded_worker:
            worker = Worker(db, settings, default_registry())
            worker_task = asyncio.create_task(worker.run(stop), name="gitwrite-worker")
        try:
            yield
        finally:
            stop.set()
            if worker_task is not None:
                # A job still running after 30 s is cancelled; its lease lets it run again.
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(worker_task, timeout=30)
            await services.fanout.close()
            await db.dispose()

    return lifespan


def create_app(settings: Settings | None = None, *, fanout: Fanout | None = None) -> Litestar:
    """The server application for ``settings`` (read from the environment when None);
    ``fanout`` replaces the one the settings choose (tests share one between apps)."""
    settings = settings or Settings.from_env()
    app = Litestar(
        route_handlers=[
            health,
            docs,
            AuthController,
            RepositoryController,
            SearchController,
            *sync_routes(),
            *team_routes(),
        ],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[_lifespan(settings, fanout)],
        request_max_body_size=settings.max_request_bytes,
        openapi_config=OpenAPIConfig(
            title="GitWrite sync server",
            version="0.1.0",
            path=OPENAPI_PATH,
            render_plugins=render_plugins(),
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"bearer": []}],
        ),
        debug=False,
    )
    document_errors(app)
    return app
