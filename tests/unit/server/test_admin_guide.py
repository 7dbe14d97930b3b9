"""docs/admin-guide.md documents every environment variable the settings read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_setting_is_documented() -> None:
    source = (ROOT / "syncserver" / "gitwrite_sync" / "settings.py").read_text(encoding="utf-8")
    guide = (ROOT / "docs" / "admin-guide.md").read_text(encoding="utf-8")
    names = set(re.findall(r'"((?:GITWRITE|DATABASE|REDIS)_[A-Z0-9_]+|DATABASE_URL)"', source))
    assert len(names) > 20
    missing = sorted(n for n in names if f"`{n}`" not in guide)
    assert missing == []


def test_every_command_is_documented() -> None:
    from gitwrite_sync.cli import parser

    guide = (ROOT / "docs" / "admin-guide.md").read_text(encoding="utf-8")
    commands = parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"`gitwrite-server {name}" in guide, name
