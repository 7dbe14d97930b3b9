"""``make load``: the seed's load test against a fresh server, from one command.

1. Start ``gitwrite-server serve`` on the embedded default (SQLite in a temporary data
   folder) on a free loopback port, with the server's real password hashing.
2. Seed it through the REST API (`tests.load.seed`): accounts and a project.
3. Run locust headless (`tests/load/locustfile.py`), bounded in users and time, and
   print its statistics.
4. Stop the server by its process id, and exit with locust's status (1 when a request
   failed).

Options: ``--users 20 --spawn-rate 5 --run-time 60s`` (``make load LOAD_ARGS=...``);
``--chapters N`` and ``--cheap-hashing`` make a quick smoke run (the test suite's).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.load.seed import EMAIL, PASSWORD, REPO, seed
from tests.serverproc import ServerProcess

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
REAL_HASHING = {
    "GITWRITE_ARGON2_TIME_COST": "3",
    "GITWRITE_ARGON2_MEMORY_KIB": "65536",
    "GITWRITE_ARGON2_PARALLELISM": "4",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--run-time", default="60s")
    parser.add_argument("--chapters", type=int, default=None, help="to seed (default: all 61)")
    parser.add_argument("--cheap-hashing", action="store_true", help="test-grade argon2")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gitwrite-load-") as tmp:
        hashing = {} if args.cheap_hashing else REAL_HASHING
        server = ServerProcess.start(Path(tmp) / "server", **hashing)
        print(f"server pid {server.pid} at {server.base_url} (log: {server.log_path})", flush=True)
        try:
            seed(server.base_url, args.users, chapters_count=args.chapters)
            env = dict(
                os.environ,
                GITWRITE_LOAD_REPO=REPO,
                GITWRITE_LOAD_ACCOUNTS=str(args.users),
                GITWRITE_LOAD_EMAIL=EMAIL,
                GITWRITE_LOAD_PASSWORD=PASSWORD,
            )
            command = [
                str(Path(sys.executable).with_name("locust")),
                "-f", str(LOCUSTFILE),
                "--headless",
                "--host", server.base_url,
                "--users", str(args.users),
                "--spawn-rate", str(args.spawn_rate),
                "--run-time", args.run_time,
                "--stop-timeout", "10",
                "--only-summary",
            ]  # fmt: skip
            print("$", " ".join(command), flush=True)
            return subprocess.run(command, env=env, check=False).returncode
        finally:
            server.stop()
            print(f"server pid {server.pid} stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
