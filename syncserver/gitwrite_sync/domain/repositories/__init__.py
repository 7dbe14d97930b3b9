"""Repositories and collaborators over REST, and the overview of one repository."""

from gitwrite_sync.domain.repositories.overview import OverviewService
from gitwrite_sync.domain.repositories.service import RepositoryService, check_name

__all__ = ["OverviewService", "RepositoryService", "check_name"]
