"""The team REST API's controllers (DESIGN §7), for the app factory: saves, files,
history and compare, explorations, milestones and annotations of a repository."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from gitwrite_sync.domain.annotations.controller import AnnotationController
from gitwrite_sync.domain.explorations.controller import ExplorationController
from gitwrite_sync.domain.files.controller import FilesController
from gitwrite_sync.domain.history.controller import HistoryController
from gitwrite_sync.domain.milestones.controller import MilestoneController
from gitwrite_sync.domain.saves.controller import SaveController


def team_routes() -> list[ControllerRouterHandler]:
    return [
        SaveController,
        FilesController,
        HistoryController,
        ExplorationController,
        MilestoneController,
        AnnotationController,
    ]
