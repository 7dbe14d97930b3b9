"""Search as the writer types, on War and Peace (366 chapter files, 3.2 MB), through the
desktop cache: what each keystroke costs, and what indexing costs.

Run with ``.venv/bin/python -m tests.bench.desktop_search`` (``--rounds N``). It builds
a project in a temporary folder, indexes its working text into a new cache file, then
times `gitwrite_desktop.core.search.search` on a read-only connection (as the reader
thread does): the first run of each query and the median of the next rounds, in the
manuscript's order (the default) and by relevance. The target is under 50 ms a query.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from gitwrite.project import Project
from gitwrite_desktop.core.cache import FILE_NAME, Cache
from gitwrite_desktop.core.search import Order, search
from gitwrite_desktop.core.textindex import TextIndex
from tests.corpus import chapters

PROJECT = "war-and-peace"
TYPING = ["N", "Na", "Nat", "Nata", "Natas", "Natash", "Natasha", "Natasha R", "Natasha Rost"]
OTHERS = ['"prince andrew"', "the", "a", "t", "Pierre Bezukhov", "Bolkónski", "zzyzzx"]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}"


def run(rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="gitwrite-bench-") as tmp:
        root = Path(tmp)
        files = dict(chapters("war_and_peace"))
        with Project.create(root / "novel", starter=False) as project:
            project.write_files({name: text.encode() for name, text in files.items()})
            cache = Cache.open(root / "data")
            index = TextIndex(cache.db, PROJECT)
            started = time.perf_counter()
            index.refresh(project)
            indexed = time.perf_counter() - started
            index.refresh(project)  # files written seconds ago are read once more
            started = time.perf_counter()
            index.refresh(project)
            unchanged = time.perf_counter() - started
            name = "chapter-200.md"
            project.write_files({name: (files[name] + "\n\nA new paragraph.\n").encode()})
            started = time.perf_counter()
            index.refresh(project, [name])
            one_file = time.perf_counter() - started
        size = os.path.getsize(root / "data" / FILE_NAME) / 1e6
        paragraphs = cache.db.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
        print(
            f"{len(files)} files, {sum(map(len, files.values())) / 1e6:.1f} M characters, "
            f"{paragraphs} paragraphs; cache file {size:.1f} MB"
        )
        print(f"{ms(indexed)} ms  index every file (first open or rebuild)")
        print(f"{ms(unchanged)} ms  refresh with nothing changed (stat of every file)")
        print(f"{ms(one_file)} ms  refresh one edited chapter\n")
        reader = cache.reader()
        print("   first  median ms  order      hits/total  query")
        for typed in TYPING + OTHERS:
            for order in Order:
                times = []
                for _ in range(rounds + 1):
                    started = time.perf_counter()
                    results = search(reader, PROJECT, typed, order=order)
                    times.append(time.perf_counter() - started)
                print(
                    f"{ms(times[0])} {ms(statistics.median(times[1:]))}     {order:9}"
                    f"  {len(results.hits):3}/{results.total:<6}  {typed!r}"
                )
        reader.close()
        cache.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    run(args.rounds)


if __name__ == "__main__":
    main()
