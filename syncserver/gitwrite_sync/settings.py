"""Server settings, read from environment variables (see docs/admin-guide.md).

With no variables set the server runs on the embedded default: an SQLite file in the
data folder, in-process fanout and in-process background work. ``DATABASE_URL``,
``DATABASE_REPLICA_URLS`` and ``REDIS_URL`` make it one instance of a cluster.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1024 * 1024


def default_data_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/gitwrite-server``, else ``~/.local/share/gitwrite-server``."""
    base = env.get("XDG_DATA_HOME") or str(
        Path(env.get("HOME", "~")).expanduser() / ".local" / "share"
    )
    return Path(base) / "gitwrite-server"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from exc


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _secret(data_dir: Path, env: Mapping[str, str]) -> str:
    """The signing key: ``GITWRITE_SECRET_KEY``, else one generated once into the data folder."""
    explicit = env.get("GITWRITE_SECRET_KEY")
    if explicit:
        return explicit
    path = data_dir / "secret-key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key)
    return key


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything an admin can set. Build with `Settings.from_env`."""

    data_dir: Path
    database_url: str
    secret_key: str
    replica_urls: tuple[str, ...] = ()
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8765
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    registration_open: bool = True
    max_frame_bytes: int = 64 * MiB
    max_pack_bytes: int = 48 * MiB
    max_objects_per_push: int = 200_000
    max_object_bytes: int = 32 * MiB
    client_queue_messages: int = 256
    heartbeat_seconds: int = 20
    event_retention: int = 10_000
    login_attempts_per_account: int = 10
    login_attempts_per_address: int = 50
    login_window_seconds: int = 300
    max_request_bytes: int = 16 * MiB
    max_upload_bytes: int = 32 * MiB
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 64 * 1024
    argon2_parallelism: int = 4
    embedded_worker: bool = True
    worker_settle_ms: int = 300
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        """True on the embedded default (SQLite, in-process fanout)."""
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("GITWRITE_DATA_DIR") or default_data_dir(env)).expanduser()
        data_dir.mkdir(parents=True, exist_ok=True)
        database_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'gitwrite.db'}"
        replicas = tuple(u for u in env.get("DATABASE_REPLICA_URLS", "").split(",") if u.strip())
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            secret_key=_secret(data_dir, env),
            replica_urls=replicas,
            redis_url=env.get("REDIS_URL") or None,
            host=env.get("GITWRITE_HOST", "127.0.0.1"),
            port=_int(env, "GITWRITE_PORT", 8765),
            access_token_minutes=_int(env, "GITWRITE_ACCESS_TOKEN_MINUTES", 15),
            refresh_token_days=_int(env, "GITWRITE_REFRESH_TOKEN_DAYS", 30),
            registration_open=_bool(env, "GITWRITE_REGISTRATION_OPEN", True),
            max_frame_bytes=_int(env, "GITWRITE_MAX_FRAME_BYTES", 64 * MiB),
            max_pack_bytes=_int(env, "GITWRITE_MAX_PACK_BYTES", 48 * MiB),
            max_objects_per_push=_int(env, "GITWRITE_MAX_OBJECTS_PER_PUSH", 200_000),
            max_object_bytes=_int(env, "GITWRITE_MAX_OBJECT_BYTES", 32 * MiB),
            client_queue_messages=_int(env, "GITWRITE_CLIENT_QUEUE_MESSAGES", 256),
            heartbeat_seconds=_int(env, "GITWRITE_HEARTBEAT_SECONDS", 20),
            event_retention=_int(env, "GITWRITE_EVENT_RETENTION", 10_000),
            login_attempts_per_account=_int(env, "GITWRITE_LOGIN_ATTEMPTS_PER_ACCOUNT", 10),
            login_attempts_per_address=_int(env, "GITWRITE_LOGIN_ATTEMPTS_PER_ADDRESS", 50),
            login_window_seconds=_int(env, "GITWRITE_LOGIN_WINDOW_SECONDS", 300),
            max_request_bytes=_int(env, "GITWRITE_MAX_REQUEST_BYTES", 16 * MiB),
            max_upload_bytes=_int(env, "GITWRITE_MAX_UPLOAD_BYTES", 32 * MiB),
            argon2_time_cost=_int(env, "GITWRITE_ARGON2_TIME_COST", 3),
            argon2_memory_kib=_int(env, "GITWRITE_ARGON2_MEMORY_KIB", 64 * 1024),
            argon2_parallelism=_int(env, "GITWRITE_ARGON2_PARALLELISM", 4),
            embedded_worker=_bool(
                env, "GITWRITE_EMBEDDED_WORKER", database_url.startswith("sqlite")
            ),
            worker_settle_ms=_int(env, "GITWRITE_WORKER_SETTLE_MS", 300),
        )
