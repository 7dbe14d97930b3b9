"""Builders that turn short specs into real projects and histories (dulwich's idea)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from gitwrite.model import Author, SaveInfo
from gitwrite.project import Project

WRITER = Author("Test Writer", "writer@example.com")

Spec = Mapping[str, str | None]
"""File path → new text, or None to delete the file."""


def write(project: Project, files: Spec) -> None:
    """Change files on disk without saving."""
    project.write_files(
        {p: (t.encode("utf-8") if t is not None else None) for p, t in files.items()}
    )


def make_project(root: Path, files: Spec | None = None, *, author: Author = WRITER) -> Project:
    """A new project whose first save holds ``files`` (or the starter chapter)."""
    project = Project.create(root, author=author, starter=files is None)
    if files:
        write(project, files)
        project.save("Add the first chapters")
    return project


def build_history(project: Project, saves: Sequence[Spec], prefix: str = "Save") -> list[SaveInfo]:
    """One save per spec, in order; returns the saves oldest first."""
    made = []
    for number, spec in enumerate(saves, 1):
        write(project, spec)
        made.append(project.save(f"{prefix} {number}"))
    return made
