"""Every benchmark in one run (``make bench``): the engine beside command-line git, the
prose diff and merge, the repack beside ``git gc --aggressive``, sync against the
real server beside ``git push`` and ``git clone``, a save on one desktop reaching another
beside git commit, push and pull, and the server's REST API and search
(p50/p95 per endpoint, on SQLite and PostgreSQL).

Pass ``--quick`` for a short smoke run (fewer rounds, 200 saves) while developing.
"""

from __future__ import annotations

import argparse
import platform
import time

from tests.bench import desktop_sync, engine, prose, repack, rest, sync


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rounds, saves = (5, 200) if args.quick else (21, 1000)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    print(f"# GitWrite benchmarks, {stamp}, Python {platform.python_version()}")
    print(f"# {platform.machine()}, {platform.system()}; medians; git {engine.git_version()}\n")
    print("## Engine beside command-line git\n")
    engine.main(["--rounds", str(rounds), "--saves", str(saves)])
    print("\n## Prose diff and merge\n")
    for name, ms in prose.run(rounds).items():
        print(f"{ms:9.1f} ms  {name}")
    print("\n## Repack beside git gc --aggressive\n")
    repack.run(saves, 50, False)
    print("\n## Sync with the server beside git push and git clone\n")
    sync.main(["--saves", str(saves), "--rounds", str(rounds)])
    print("\n## Desktop sync: a save at A to the text on disk at B\n")
    desktop_sync.main(["--saves", "50" if args.quick else "200"])
    print()  # and at a writer's pace, a save a second
    desktop_sync.main(["--saves", "50" if args.quick else "100", "--gap", "1.0"])
    print("\n## Server REST and search\n")
    rest.main(["--quick"] if args.quick else [])


if __name__ == "__main__":
    main()
