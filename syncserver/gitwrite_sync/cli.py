"""``gitwrite-server``: run the server, migrate, run a worker, manage accounts.

::

    gitwrite-server serve [--host H] [--port P] [--workers N]
    gitwrite-server migrate
    gitwrite-server worker [--once]
    gitwrite-server user create EMAIL [--name NAME] [--admin] [--password-stdin]
    gitwrite-server user list
    gitwrite-server user disable EMAIL | user enable EMAIL
    gitwrite-server repo list

Settings come from the environment (see docs/admin-guide.md). Every command that uses
the database migrates it first on the embedded default (SQLite); in a cluster they refuse
to run on an out-of-date schema until an admin runs ``migrate``. Errors print as one
line on stderr: status 1 (2 for a malformed setting).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from gitwrite_sync.db import migrate
from gitwrite_sync.db.engine import Database
from gitwrite_sync.errors import InvalidInput, ServerError
from gitwrite_sync.services import Services
from gitwrite_sync.settings import Settings
from gitwrite_sync.workers.jobs import default_registry
from gitwrite_sync.workers.runner import Worker

T = TypeVar("T")


def _with_services(settings: Settings, use: Callable[[Services], Awaitable[T]]) -> T:
    async def go() -> T:
        db = Database(settings.database_url, pool_size=2)
        try:
            return await use(Services.build(settings, db))
        finally:
            await db.dispose()

    return asyncio.run(go())


def _where(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)


def _ensure_schema(settings: Settings) -> None:
    """Migrate the embedded default; in a cluster only check (an admin runs `migrate`)."""
    if settings.embedded:
        migrate.upgrade(settings.database_url)
        return
    current, head = migrate.current(settings.database_url), migrate.head()
    if current != head:
        raise ServerError(
            f"the database is at schema {current or 'none'}, this server needs {head}: "
            "run `gitwrite-server migrate` first"
        )


def _listen(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(2048)
    return sock


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from gitwrite_sync.app import create_app
    from gitwrite_sync.domain.sync.websocket import websocket_max_size

    _ensure_schema(settings)
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    if args.workers > 1:
        # Each worker process builds its own app (pools, worker, subscriber) from the env.
        print(f"GitWrite server listening on http://{host}:{port} ({args.workers} processes)")
        print(f"  database: {_where(settings)}", flush=True)
        uvicorn.run(
            "gitwrite_sync.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            log_level=args.log_level,
            ws_max_size=websocket_max_size(settings),
        )
        return 0
    # Bind first, so `--port 0` works and the printed address is one that accepts already.
    sock = _listen(host, port)
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if sock.family == socket.AF_INET6 else bound[0]
    print(f"GitWrite server listening on http://{shown}:{bound[1]}")
    print(f"  database: {_where(settings)}")
    print(f"  data: {settings.data_dir}", flush=True)
    config = uvicorn.Config(
        create_app(settings),
        log_level=args.log_level,
        lifespan="on",
        ws_max_size=websocket_max_size(settings),
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    before = migrate.current(settings.database_url)
    migrate.upgrade(settings.database_url)
    after = migrate.current(settings.database_url)
    print(f"{_where(settings)}: schema {before or 'none'} -> {after}")
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    _ensure_schema(settings)

    async def run() -> None:
        db = Database(settings.database_url, pool_size=2)
        worker = Worker(db, settings, default_registry())
        try:
            if args.once:
                while await worker.run_once():
                    pass
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            print(f"worker {worker.worker_id} running: {', '.join(worker.registry)}", flush=True)
            await worker.run(stop)
        finally:
            await db.dispose()

    asyncio.run(run())
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise InvalidInput("the two passwords differ")
    return first


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    _ensure_schema(settings)
    if args.action == "create":
        password = _read_password(args)
        user = _with_services(
            settings,
            lambda s: s.users.create(args.email, password, args.name, is_admin=args.admin),
        )
        print(f"created {user.email} (id {user.id}{', admin' if user.is_admin else ''})")
    elif args.action == "list":
        users = _with_services(settings, lambda s: s.users.list())
        print(f"{'id':>5}  {'email':<40} {'name':<24} {'active':<6} admin")
        for u in users:
            active, admin = "yes" if u.is_active else "no", "yes" if u.is_admin else ""
            print(f"{u.id:>5}  {u.email:<40} {u.display_name:<24} {active:<6} {admin}")
    else:
        active = args.action == "enable"
        user = _with_services(settings, lambda s: s.users.set_active(args.email, active))
        print(f"{user.email} {'enabled' if active else 'disabled'}")
    return 0


def cmd_repo(settings: Settings, args: argparse.Namespace) -> int:
    _ensure_schema(settings)
    repos = _with_services(settings, lambda s: s.repositories.list_all())
    print(f"{'name':<32} {'owner':<40} {'events':>7}  created")
    for repo, owner in repos:
        created = repo.created_at.strftime("%Y-%m-%d %H:%M")
        print(f"{repo.name:<32} {owner.email:<40} {repo.seq:>7}  {created}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gitwrite-server", description="GitWrite sync server")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server (migrates the embedded default first)")
    serve.add_argument("--host", help="address to listen on (default GITWRITE_HOST)")
    serve.add_argument("--port", type=int, help="port (default GITWRITE_PORT; 0: any free)")
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=cmd_serve)

    sub.add_parser("migrate", help="bring the database to the newest schema").set_defaults(
        run=cmd_migrate
    )

    worker = sub.add_parser("worker", help="run background jobs until stopped")
    worker.add_argument("--once", action="store_true", help="run what is due, then exit")
    worker.set_defaults(run=cmd_worker)

    user = sub.add_parser("user", help="manage accounts").add_subparsers(
        dest="action", required=True
    )
    create = user.add_parser("create", help="create an account (asks for the password)")
    create.add_argument("email")
    create.add_argument("--name", default="", help="display name (default: from the email)")
    create.add_argument("--admin", action="store_true")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    user.add_parser("list", help="list accounts")
    for action in ("disable", "enable"):
        one = user.add_parser(action, help=f"{action} an account")
        one.add_argument("email")
    for name in ("create", "list", "disable", "enable"):
        user.choices[name].set_defaults(run=cmd_user)

    repo = sub.add_parser("repo", help="repositories").add_subparsers(dest="action", required=True)
    repo.add_parser("list", help="list every repository").set_defaults(run=cmd_repo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
    except ValueError as exc:  # a malformed variable
        print(f"gitwrite-server: {exc}", file=sys.stderr)
        return 2
    run: Callable[[Settings, argparse.Namespace], int] = args.run
    try:
        return run(settings, args)
    except ServerError as exc:
        print(f"gitwrite-server: {exc.message}", file=sys.stderr)
        return 1
    except (sa_exc.SQLAlchemyError, OSError) as exc:  # the database said no, or is away
        print(f"gitwrite-server: database error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
