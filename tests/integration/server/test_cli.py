"""``gitwrite-server``: migrate, accounts, repositories, the worker, and serve."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from gitwrite_sync.cli import main
from gitwrite_sync.db import migrate
from tests.integration.postgres import PostgresServer
from tests.integration.server.conftest import PASSWORD, client_for, make_settings

SERVER = Path(sys.executable).with_name("gitwrite-server")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, empty_database_url: str, tmp_path: Path) -> str:
    """The environment of an admin's shell: an empty database, cheap hashing."""
    monkeypatch.setenv("GITWRITE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GITWRITE_SECRET_KEY", "cli-test-key-" + "x" * 32)
    monkeypatch.setenv("GITWRITE_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("GITWRITE_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("GITWRITE_ARGON2_PARALLELISM", "1")
    if empty_database_url.startswith("sqlite"):
        monkeypatch.delenv("DATABASE_URL", raising=False)  # the embedded default
        return f"sqlite+aiosqlite:///{tmp_path / 'gitwrite.db'}"
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    return empty_database_url


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = "") -> tuple[int, str, str]:
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = saved
    out, err = capsys.readouterr()
    return code, out, err


def test_migrate(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "migrate")
    assert code == 0 and f"schema none -> {migrate.head()}" in out
    code, out, _ = run(capsys, "migrate")
    assert code == 0 and f"schema {migrate.head()} -> {migrate.head()}" in out


def test_user_commands(env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "migrate")
    code, out, _ = run(
        capsys, "user", "create", "Ada@example.com", "--name", "Ada", "--admin",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0 and "created ada@example.com" in out and "admin" in out
    code, _, err = run(
        capsys, "user", "create", "ada@example.com", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 1 and "exists already" in err
    code, _, err = run(capsys, "user", "create", "bob@example.com", "--password-stdin", stdin="x\n")
    assert code == 1 and "password" in err

    code, out, _ = run(capsys, "user", "list")
    assert code == 0 and "ada@example.com" in out and "Ada" in out

    settings = make_settings(env, tmp_path, secret_key=os.environ["GITWRITE_SECRET_KEY"])
    login = {"email": "ada@example.com", "password": PASSWORD}
    assert run(capsys, "user", "disable", "ada@example.com")[0] == 0
    with client_for(settings) as client:
        assert client.post("/auth/login", json=login).status_code == 401
    assert run(capsys, "user", "enable", "ada@example.com")[0] == 0
    with client_for(settings) as client:
        assert client.post("/auth/login", json=login).status_code == 200
    code, _, err = run(capsys, "user", "disable", "nobody@example.com")
    assert code == 1 and "no account" in err


def test_repo_list_and_worker(env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "user", "list")
    if env.startswith("sqlite"):
        assert code == 0  # the embedded default migrated itself
    else:
        assert code == 1 and "gitwrite-server migrate" in err
        assert run(capsys, "migrate")[0] == 0
    run(capsys, "user", "create", "ada@example.com", "--password-stdin", stdin=PASSWORD + "\n")
    settings = make_settings(env, tmp_path, secret_key=os.environ["GITWRITE_SECRET_KEY"])
    with client_for(settings) as client:
        tokens = client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        assert client.post("/repositories", json={"name": "novel"}, headers=headers).is_success
    code, out, _ = run(capsys, "repo", "list")
    assert code == 0 and "novel" in out and "ada@example.com" in out
    # The worker enqueues its periodic jobs and runs what is due.
    code, _, _ = run(capsys, "worker", "--once")
    assert code == 0


def test_a_cluster_server_refuses_an_unmigrated_database(
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    name = f"cli_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("GITWRITE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", postgres_server.create_database(name))
    try:
        code, _, err = run(capsys, "serve", "--port", "0")
    finally:
        postgres_server.drop_database(name)
    assert code == 1 and "gitwrite-server migrate" in err


def test_a_malformed_setting_is_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("GITWRITE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GITWRITE_PORT", "eighty")
    code, _, err = run(capsys, "migrate")
    assert code == 2 and "GITWRITE_PORT" in err


def test_serve_migrates_the_embedded_default_and_says_where_it_listens(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GITWRITE_DATA_DIR": str(tmp_path / "data"),
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [str(SERVER), "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "the server exited before listening"
            if line.startswith("GitWrite server listening on "):
                url = line.split()[-1]
        assert url is not None and url.startswith("http://127.0.0.1:")
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("/health never answered")
        assert (tmp_path / "data" / "gitwrite.db").is_file()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rest, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
    # A graceful stop; uvicorn then re-raises SIGTERM so the exit status tells why it ended.
    assert "Application shutdown complete" in rest
    assert proc.returncode in (0, -signal.SIGTERM)
