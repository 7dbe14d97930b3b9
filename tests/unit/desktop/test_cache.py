"""The cache file: made, upgraded from files of past schema versions (Electrum's storage
tests), and moved aside when corrupt, foreign or newer, never crashing."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from gitwrite_desktop.core import cache_schema
from gitwrite_desktop.core.cache import FILE_NAME, Cache
from tests.unit.desktop.fixtures.make_cache_fixtures import ACCOUNT, PROJECT

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAST_VERSIONS = sorted(int(p.stem.split("-v")[1]) for p in FIXTURES.glob("cache-v*.sqlite3"))


def schema(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
    finally:
        conn.close()


def pragma(path: Path, name: str) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return int(conn.execute(f"PRAGMA {name}").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def fresh_schema(tmp_path: Path) -> list[tuple[str, str, str]]:
    Cache.open(tmp_path / "fresh").close()
    return schema(tmp_path / "fresh" / FILE_NAME)


def test_a_new_cache_is_made_at_the_current_version(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path)
    assert cache.fresh and cache.upgraded_from is None and cache.moved_aside is None
    assert cache.db.journal_mode == "wal"
    cache.close()
    assert pragma(tmp_path / FILE_NAME, "user_version") == cache_schema.VERSION
    assert pragma(tmp_path / FILE_NAME, "application_id") == cache_schema.APPLICATION_ID
    again = Cache.open(tmp_path)
    assert not again.fresh and again.upgraded_from is None
    again.close()


def test_every_past_version_has_a_fixture_file() -> None:
    assert list(range(1, cache_schema.VERSION)) == PAST_VERSIONS


@pytest.mark.parametrize("version", PAST_VERSIONS)
def test_a_file_of_a_past_version_is_upgraded_keeping_its_rows(
    version: int, tmp_path: Path, fresh_schema: list[tuple[str, str, str]]
) -> None:
    shutil.copy(FIXTURES / f"cache-v{version}.sqlite3", tmp_path / FILE_NAME)
    cache = Cache.open(tmp_path)
    assert cache.upgraded_from == version and not cache.fresh and cache.moved_aside is None
    db = cache.db
    assert db.execute("SELECT name FROM projects").fetchall() == [("Novel",)]
    assert db.execute("SELECT last_seq, needs_push FROM sync_state").fetchall() == [(42, 1)]
    saves = "SELECT day, words_added FROM saves WHERE project_id = ? ORDER BY day"
    assert db.execute(saves, [PROJECT]).fetchall() == [("2025-01-01", 100), ("2025-01-02", 200)]
    assert db.execute("SELECT count(*) FROM annotations").fetchone()[0] == 0
    assert db.execute("SELECT annotations_head FROM projects").fetchone()[0] is None
    assert db.execute("SELECT * FROM server_heads WHERE account_id = ?", [ACCOUNT]).fetchall() == []
    if version >= 2:  # its paragraphs stay searchable, diacritics folded
        match = """SELECT p.path, p.line FROM paragraphs_fts JOIN paragraphs AS p
                   ON p.id = paragraphs_fts.rowid WHERE paragraphs_fts MATCH 'natasha'"""
        assert db.execute(match).fetchall() == [("chapter-01.md", 3)]
    cache.close()
    assert schema(tmp_path / FILE_NAME) == fresh_schema
    assert pragma(tmp_path / FILE_NAME, "user_version") == cache_schema.VERSION


def test_the_fixture_files_are_never_rewritten(tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in FIXTURES.glob("cache-v*.sqlite3")}
    from tests.unit.desktop.fixtures import make_cache_fixtures

    make_cache_fixtures.main()
    assert {p.name: p.read_bytes() for p in FIXTURES.glob("cache-v*.sqlite3")} == before


def _moved(tmp_path: Path) -> list[Path]:
    return sorted(p for p in tmp_path.iterdir() if p.name.startswith(f"{FILE_NAME}."))


def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"this is not SQLite at all\n" * 200)
    cache = Cache.open(tmp_path)
    assert cache.fresh and cache.moved_aside is not None
    assert cache.moved_aside.name.startswith(f"{FILE_NAME}.corrupt-")
    assert cache.moved_aside.read_bytes() == b"this is not SQLite at all\n" * 200
    assert "not a database" in cache.reason
    cache.db.execute("SELECT count(*) FROM projects")
    cache.close()


def test_a_damaged_database_is_moved_aside_with_its_wal(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "cache-v2.sqlite3", tmp_path / FILE_NAME)
    Cache.open(tmp_path).close()
    data = bytearray((tmp_path / FILE_NAME).read_bytes())
    for page in range(2, len(data) // 4096):  # scribble over every page but the header's
        data[page * 4096 + 100 : page * 4096 + 400] = b"\xff" * 300
    (tmp_path / FILE_NAME).write_bytes(bytes(data))
    (tmp_path / f"{FILE_NAME}-wal").write_bytes(b"stale")
    cache = Cache.open(tmp_path)
    assert cache.fresh and cache.moved_aside is not None
    assert cache.db.execute("SELECT count(*) FROM paragraphs").fetchone()[0] == 0
    wal = tmp_path / f"{FILE_NAME}-wal"
    assert not wal.exists() or b"stale" not in wal.read_bytes()
    cache.close()


def test_a_file_from_a_newer_gitwrite_is_moved_aside_untouched(tmp_path: Path) -> None:
    Cache.open(tmp_path).close()
    conn = sqlite3.connect(str(tmp_path / FILE_NAME))
    conn.execute(f"PRAGMA user_version={cache_schema.VERSION + 5}")
    conn.execute("CREATE TABLE shelves (id INTEGER)")
    conn.commit()
    conn.close()
    newer = (tmp_path / FILE_NAME).read_bytes()
    cache = Cache.open(tmp_path)
    assert cache.fresh and cache.moved_aside is not None
    assert cache.moved_aside.name.startswith(f"{FILE_NAME}.newer-v{cache_schema.VERSION + 5}-")
    assert cache.moved_aside.read_bytes() == newer
    cache.close()


def test_another_applications_database_is_not_taken_over(tmp_path: Path) -> None:
    conn = sqlite3.connect(str(tmp_path / FILE_NAME))
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    cache = Cache.open(tmp_path)
    (moved,) = _moved(tmp_path)
    assert cache.fresh and moved.name.startswith(f"{FILE_NAME}.corrupt-")
    assert "not a GitWrite cache" in cache.reason
    cache.close()


def test_an_upgrade_that_fails_leaves_a_new_cache_instead(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "cache-v1.sqlite3", tmp_path / FILE_NAME)
    conn = sqlite3.connect(str(tmp_path / FILE_NAME))
    conn.execute("CREATE TABLE annotations (x)")  # version 3 cannot create its table now
    conn.commit()
    conn.close()
    cache = Cache.open(tmp_path)
    assert cache.fresh and cache.moved_aside is not None and "annotations" in cache.reason
    cache.close()
    # The failed step was rolled back as one transaction: the steps before it stayed.
    assert pragma(cache.moved_aside, "user_version") == 2
    conn = sqlite3.connect(str(cache.moved_aside))
    columns = [row[1] for row in conn.execute("PRAGMA table_info(projects)")]
    conn.close()
    assert "annotations_head" not in columns


def test_readers_use_their_own_read_only_connection(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path)
    reader = cache.reader()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.execute("DELETE FROM projects")
    with cache.write():
        cache.db.table("projects").insert({"id": "p", "path": "/p", "name": "P"})
    assert reader.execute("SELECT name FROM projects").fetchall() == [("P",)]
    reader.close()
    cache.close()
