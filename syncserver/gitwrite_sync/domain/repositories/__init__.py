"""Repositories and collaborators over REST (issue 4 adds saves, history, search...)."""

from gitwrite_sync.domain.repositories.service import RepositoryService, check_name

__all__ = ["RepositoryService", "check_name"]
