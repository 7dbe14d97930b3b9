"""The import rules of the design: the shared core imports no Qt, SQLAlchemy or Litestar;
the desktop core no Qt; only ``gitwrite_desktop.ui`` imports PySide6; the server no desktop code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "gitwrite": ROOT / "shared" / "gitwrite",
    "gitwrite_desktop": ROOT / "desktop" / "gitwrite_desktop",
    "gitwrite_sync": ROOT / "syncserver" / "gitwrite_sync",
}
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "qtpy")
SERVER = ("sqlalchemy", "litestar", "asyncpg", "aiosqlite", "alembic", "redis")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(package: str, forbidden: tuple[str, ...], skip: str | None = None) -> list[str]:
    found = []
    for path in sorted(PACKAGES[package].rglob("*.py")):
        if skip and skip in path.relative_to(PACKAGES[package]).parts[:1]:
            continue
        for name in imported_modules(path):
            if name.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_shared_core_imports_no_qt_no_database_no_web() -> None:
    assert violations("gitwrite", QT + SERVER + ("gitwrite_desktop", "gitwrite_sync")) == []


def test_desktop_core_imports_no_qt() -> None:
    found = [v for v in violations("gitwrite_desktop", QT, skip="ui") if "/ui/" not in v]
    assert found == []


def test_server_imports_no_desktop_or_qt() -> None:
    assert violations("gitwrite_sync", (*QT, "gitwrite_desktop")) == []


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_is_typed(package: str) -> None:
    assert (PACKAGES[package] / "py.typed").is_file()


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom PySide6.QtCore import QObject\n", encoding="utf-8")
    assert "PySide6.QtCore" in imported_modules(module)
