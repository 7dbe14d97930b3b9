"""History of saves (from the commit index) and word-level compare between saves."""

from gitwrite_sync.domain.history.service import HistoryService

__all__ = ["HistoryService"]
