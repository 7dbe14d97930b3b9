"""A throwaway PostgreSQL server for tests: initdb in a temporary folder, one per session.

``initdb`` refuses to run as root, so when the tests run as root the server belongs to an
unprivileged OS user (``gitwrite-pg``, created with ``useradd`` when missing) and every
PostgreSQL program runs through ``runuser -u gitwrite-pg --``. The server listens only on
127.0.0.1 on a free port, keeps its Unix socket in a folder that user owns, and runs with
``fsync=off`` (a test database need not survive a power cut). It trusts local connections:
nothing but this machine can reach it, and it lives only as long as the test session.

Missing binaries are an error with a clear message, never a skip:
``scripts/install-system-packages`` installs them.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

OS_USER = "gitwrite-pg"
SUPERUSER = "gitwrite"
_SEARCH_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/local/bin")


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be found or started; the message says what to do."""


def find_bindir() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``psql``.

    Looks at ``$PG_BINDIR``, then ``pg_config --bindir``, then the Debian locations.
    """
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if out:
            candidates.append(Path(out))
    candidates.extend(Path(d) for d in _SEARCH_DIRS)
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "psql")):
            return directory
    raise PostgresUnavailable(
        "PostgreSQL binaries (initdb, pg_ctl, psql) not found in "
        + ", ".join(str(c) for c in candidates)
        + ". Run scripts/install-system-packages (or `apt-get install postgresql`), "
        "or set PG_BINDIR to the folder that holds them."
    )


def ensure_os_user(name: str = OS_USER) -> str:
    """The unprivileged account the server runs as (created when missing, if we are root).

    Returns the name to run as; when not root, the current user runs the server directly.
    """
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    for attempt in range(10):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
        done = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
            check=False,
        )
        # 9: exists already (another xdist worker won the race); 10: /etc/passwd locked.
        if done.returncode not in (0, 9, 10):
            raise PostgresUnavailable(f"useradd {name} failed: {done.stderr.strip()}")
        time.sleep(0.05 * (attempt + 1))
    pwd.getpwnam(name)
    return name


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """One running server. Start with `PostgresServer.start`, end with `stop`."""

    bindir: Path
    os_user: str
    root: Path
    port: int
    _stopped: bool = field(default=False, repr=False)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def socketdir(self) -> Path:
        return self.root / "sockets"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str, *, driver: str = "asyncpg") -> str:
        """A SQLAlchemy URL for ``database`` (``postgresql+asyncpg://`` by default)."""
        return f"postgresql+{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls, *, attempts: int = 3) -> PostgresServer:
        """initdb a fresh cluster in a new temporary folder and start it on a free port."""
        bindir = find_bindir()
        os_user = ensure_os_user()
        # Not under pytest's basetemp (its parents are private to root); in memory when
        # possible: creating a database from a template took ~0.3 s on disk, ~30 ms there.
        shm = Path("/dev/shm")
        tmp = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
        root = Path(tempfile.mkdtemp(prefix="gitwrite-pg-", dir=tmp))
        user = pwd.getpwnam(os_user)
        os.chown(root, user.pw_uid, user.pw_gid)
        server = cls(bindir=bindir, os_user=os_user, root=root, port=0)
        try:
            (server.socketdir).mkdir()
            os.chown(server.socketdir, user.pw_uid, user.pw_gid)
            server._initdb()
            last = ""
            for _ in range(attempts):
                server.port = free_port()
                last = server._pg_ctl_start()
                if not last:
                    server._watch(os.getpid())
                    return server
            raise PostgresUnavailable(f"PostgreSQL did not start:\n{last}")
        except BaseException:
            server.stop()
            raise

    def _as_user(self, *argv: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", self.os_user, "--", *argv]
        return list(argv)

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self._as_user(*argv), capture_output=True, text=True, cwd=self.root, check=False
        )
        if check and done.returncode != 0:
            raise PostgresUnavailable(
                f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return done

    def _initdb(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.socketdir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "300",
            "shared_buffers": "64MB",
            "log_min_messages": "warning",
        }
        with (self.datadir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# gitwrite test server\n")
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def _pg_ctl_start(self) -> str:
        """Start on ``self.port``; returns "" on success, else what went wrong."""
        done = self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            str(self.logfile),
            "-o",
            f"-p {self.port}",
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if done.returncode == 0:
            return ""
        log = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
        return f"{done.stdout}\n{done.stderr}\n{log}"

    def _watch(self, owner: int) -> None:
        """Stop the server when process ``owner`` dies, even by SIGKILL or a timeout, so a
        killed test run leaves no PostgreSQL behind. (A normal end stops it with `stop`.)"""
        stop = " ".join(
            self._as_user(
                str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"
            )
        )
        script = (
            f"while kill -0 {owner} 2>/dev/null; do sleep 1; done; "
            f"if [ -f {self.datadir}/postmaster.pid ]; then {stop} >/dev/null 2>&1; fi; "
            f"rm -rf {self.root}"
        )
        subprocess.Popen(
            ["sh", "-c", script],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run one SQL command as the superuser (outside any transaction block)."""
        done = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {done.stderr.strip()}")
        return done.stdout

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create ``name`` (from ``template`` when given) and return its URL."""
        clause = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        self.psql(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing any connection a test left open."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop this server (``pg_ctl stop`` on its own data folder) and remove its files."""
        if self._stopped:
            return
        self._stopped = True
        if (self.datadir / "postmaster.pid").exists():
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-m",
                "fast",
                "-w",
                "stop",
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)
