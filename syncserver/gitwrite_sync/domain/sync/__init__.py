"""Sync: push, fetch, live notices and replay, over the WebSocket (DESIGN §4)."""

from gitwrite_sync.domain.sync.service import FetchOutcome, PushOutcome, SyncService

__all__ = ["FetchOutcome", "PushOutcome", "SyncService"]
