"""Saves made by the server: a file's new text (or an uploaded file) as a new commit."""

from gitwrite_sync.domain.saves.service import SaveService

__all__ = ["SaveService"]
