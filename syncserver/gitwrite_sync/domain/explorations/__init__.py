"""Explorations (branches): list, create from a save, delete, and merge when clean."""

from gitwrite_sync.domain.explorations.service import ExplorationService

__all__ = ["ExplorationService"]
