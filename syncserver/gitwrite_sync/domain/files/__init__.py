"""Files at any save: read, stream uploads as saves, word counts, export."""

from gitwrite_sync.domain.files.service import FileService

__all__ = ["FileService"]
