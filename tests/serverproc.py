"""The real server as a separate process, for end-to-end tests and benchmarks.

`ServerProcess.start` runs ``gitwrite-server serve`` on a free loopback port with its own
data folder (the embedded SQLite default, which ``serve`` migrates) or a ``DATABASE_URL``
(migrated here first), and waits for ``GET /health``. It is stopped by its own pid:
`stop` (SIGTERM, then SIGKILL after a grace period) or `kill` (SIGKILL at once, to test
crashes). `restart` starts a new process on the same folder, database and port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

SECRET = "end-to-end-test-secret-" + "k" * 40
SERVER_BIN = Path(sys.executable).with_name("gitwrite-server")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(data_dir: Path, port: int, database_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a test server: only what it needs, cheap password hashing."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        GITWRITE_DATA_DIR=str(data_dir),
        GITWRITE_HOST="127.0.0.1",
        GITWRITE_PORT=str(port),
        GITWRITE_SECRET_KEY=SECRET,
        GITWRITE_ARGON2_TIME_COST="1",
        GITWRITE_ARGON2_MEMORY_KIB="1024",
        GITWRITE_ARGON2_PARALLELISM="1",
        GITWRITE_LOGIN_ATTEMPTS_PER_ADDRESS="100000",
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    data_dir: Path
    port: int
    database_url: str | None
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"server-{self.starts}.log"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "gitwrite.db"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @classmethod
    def start(
        cls, data_dir: Path, *, database_url: str | None = None, **extra_env: str
    ) -> ServerProcess:
        data_dir.mkdir(parents=True, exist_ok=True)
        server = cls(data_dir, free_port(), database_url, dict(extra_env))
        server._launch()
        return server

    def _env(self) -> dict[str, str]:
        return server_env(self.data_dir, self.port, self.database_url, **self.extra_env)

    def _launch(self, timeout: float = 60.0) -> None:
        if not SERVER_BIN.exists():
            raise RuntimeError(f"{SERVER_BIN} is missing: run `make install`")
        if self.starts == 0 and self.database_url is not None:
            # `serve` migrates the embedded SQLite itself; a cluster database is an admin's
            # job (`gitwrite-server migrate`), done here in-process: a second process
            # start costs seconds.
            from gitwrite_sync.db.migrate import upgrade

            upgrade(self.database_url)
        self.starts += 1
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(SERVER_BIN), "serve"],
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_healthy(timeout)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server did not become healthy in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the server process, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited after ``grace`` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def restart(self) -> None:
        """Start again on the same data, database and port (after `kill` or `stop`)."""
        self.stop()
        self._launch()
