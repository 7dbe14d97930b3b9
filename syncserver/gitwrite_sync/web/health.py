"""``GET /health``: 200 while the process serves requests (liveness, no dependencies)."""

from __future__ import annotations

from litestar import get


@get("/health", tags=["health"], summary="Alive", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}
