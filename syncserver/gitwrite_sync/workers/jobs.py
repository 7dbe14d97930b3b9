"""The job kinds this server knows. Features add theirs to `default_registry`."""

from __future__ import annotations

from datetime import timedelta

from gitwrite_sync.domain import search
from gitwrite_sync.domain.auth import prune
from gitwrite_sync.storage import trim_events
from gitwrite_sync.workers.runner import JobContext, JobRegistry


def default_registry() -> JobRegistry:
    registry = JobRegistry()

    @registry.register("auth.prune", every=timedelta(hours=1))
    async def prune_auth(ctx: JobContext) -> None:
        """Drop expired token revocations, refresh tokens and old rate counters."""
        await prune(ctx.db, ctx.settings)

    @registry.register("events.trim", every=timedelta(hours=1))
    async def trim_event_log(ctx: JobContext) -> None:
        """Keep the newest ``event_retention`` events of each repository (older sequences
        are answered with ResyncRequired)."""
        async with ctx.db.write() as session:
            await trim_events(session, ctx.settings.event_retention)

    search.register_jobs(registry)  # index_push, search.catch_up
    return registry
