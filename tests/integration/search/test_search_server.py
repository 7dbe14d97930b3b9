"""Search against the real server process: on the embedded default a REST save is
findable within a second (the in-process worker is woken by the save's job); in a
cluster a ``gitwrite-server worker`` process indexes it (it polls: a few seconds)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.postgres import PostgresServer
from tests.serverproc import SERVER_BIN, ServerProcess

PASSWORD = "correct horse battery staple"


def sign_up(http: httpx.Client, name: str) -> dict[str, str]:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    made = http.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert made.status_code == 201, made.text
    tokens = http.post("/auth/login", json={"email": email, "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def save_then_find(server: ServerProcess, timeout: float) -> float:
    """Seconds from a REST save's answer to its words being found."""
    with httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as http:
        headers = sign_up(http, "ann")
        repo = f"novel-{uuid.uuid4().hex[:8]}"
        assert http.post("/repositories", json={"name": repo}, headers=headers).status_code == 201
        word = f"zq{uuid.uuid4().hex[:10]}"
        body = {"file_path": "chapter-01.md", "content": f"# One\n\nThe {word} sang.\n"}
        saved = http.post(f"/repositories/{repo}/save", json=body, headers=headers)
        assert saved.status_code == 201, saved.text
        started = time.monotonic()
        while True:
            got = http.get(f"/repositories/{repo}/search", params={"q": word}, headers=headers)
            assert got.status_code == 200, got.text
            if got.json()["results"]:
                return time.monotonic() - started
            assert time.monotonic() - started < timeout, f"not found in {timeout} s"
            time.sleep(0.01)


def test_embedded_default_finds_a_save_within_a_second(tmp_path: Path) -> None:
    server = ServerProcess.start(tmp_path / "server")
    try:
        assert save_then_find(server, timeout=10) < 1.0
    finally:
        server.stop()


@pytest.fixture
def cluster_database(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    name = f"search_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name, template=postgres_template)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)


def test_a_worker_process_indexes_for_the_cluster(tmp_path: Path, cluster_database: str) -> None:
    server = ServerProcess.start(tmp_path / "server", database_url=cluster_database)
    worker = subprocess.Popen(
        [str(SERVER_BIN), "worker"],
        env=server._env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert save_then_find(server, timeout=15) < 5.0
    finally:
        os.kill(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
        server.stop()
