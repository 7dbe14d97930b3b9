"""Milestones (annotated tags): list and create."""

from gitwrite_sync.domain.milestones.service import MilestoneService

__all__ = ["MilestoneService"]
