"""Annotations over REST, in the desktop's format on ``refs/gitwrite/annotations``."""

from gitwrite_sync.domain.annotations.service import AnnotationService

__all__ = ["AnnotationService"]
