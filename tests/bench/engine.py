"""Engine benchmarks, each beside command-line git on the same data in the same run.

Run with ``make bench`` (all benchmarks) or ``.venv/bin/python -m tests.bench.engine``.
Figures are medians over repeated runs; the machine is noisy, so read the ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gitwrite.model import Author
from gitwrite.project import Project
from tests.corpus import chapters, novel, paragraphs

AUTHOR = Author("Bench Writer", "bench@example.com")


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME=AUTHOR.name,
        GIT_AUTHOR_EMAIL=AUTHOR.email,
        GIT_COMMITTER_NAME=AUTHOR.name,
        GIT_COMMITTER_EMAIL=AUTHOR.email,
    )
    return env


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args],
        env=git_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def git_version() -> str:
    return subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.split()[-1]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@contextmanager
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="gitwrite-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def make_pair(base: Path, files: dict[str, str]) -> tuple[Project, Path]:
    """The same files as an engine project and as a plain git repository."""
    project = Project.create(base / "engine", author=AUTHOR, starter=False)
    project.write_files({p: t.encode() for p, t in files.items()})
    project.save("Import the manuscript")
    plain = base / "git"
    plain.mkdir()
    git(plain, "init", "-q", "-b", "main")
    for path, text in files.items():
        (plain / path).write_text(text, encoding="utf-8")
    git(plain, "add", "-A")
    git(plain, "commit", "-q", "-m", "Import the manuscript")
    return project, plain


def edits(text: str, count: int) -> Iterator[tuple[str, str]]:
    """``count`` one-paragraph edits of ``text``: (old paragraph, new paragraph) pairs."""
    paras = [p for p in paragraphs(text) if len(p) > 200]
    step = max(1, len(paras) // count)
    for n in range(count):
        para = paras[(n * step) % len(paras)]
        yield para, para.replace(" ", f" edited{n} ", 1)


def bench_save(files: dict[str, str], rounds: int) -> tuple[float, float]:
    """Median ms of a save after a one-paragraph edit: the engine, then git add && commit."""
    with workdir() as base:
        project, plain = make_pair(base, files)
        names = sorted(files)
        texts = dict(files)
        ours: list[float] = []
        theirs: list[float] = []
        for n, (old, new) in enumerate(edits("\n\n".join(texts.values()), rounds)):
            name = next((f for f in names if old in texts[f]), names[n % len(names)])
            texts[name] = texts[name].replace(old, new, 1)
            data = texts[name].encode()
            (project.root / name).write_bytes(data)
            (plain / name).write_bytes(data)
            ours.append(timed(project.save))
            theirs.append(
                timed(lambda: (git(plain, "add", "-A"), git(plain, "commit", "-q", "-m", "edit")))
            )
        assert git(project.root, "status", "--porcelain") == ""
        return median_ms(ours), median_ms(theirs)


def build_long_history(root: Path, saves: int) -> Project:
    """A chaptered Pride and Prejudice with ``saves`` one-paragraph saves spread over chapters."""
    files = dict(chapters())
    project = Project.create(root, author=AUTHOR, starter=False)
    project.write_files({p: t.encode() for p, t in files.items()})
    project.save("Import the manuscript")
    names = sorted(files)
    for n in range(saves):
        name = names[(n * 7) % len(names)]
        paras = [p for p in paragraphs(files[name]) if len(p) > 80] or [files[name]]
        para = paras[n % len(paras)]
        files[name] = files[name].replace(para, para.replace(" ", f" w{n} ", 1), 1)
        (project.root / name).write_text(files[name], encoding="utf-8")
        project.save()
    return project


def bench_history(saves: int, rounds: int) -> tuple[float, float]:
    """Median ms to list the newest 50 saves of a long history, vs ``git log -50 --shortstat``."""
    with workdir() as base:
        project = build_long_history(base / "long", saves)
        ours = [timed(lambda: Project.open(project.root).history(limit=50)) for _ in range(rounds)]
        theirs = [
            timed(lambda: git(project.root, "log", "-50", "--shortstat", "--format=%H %an %at %s"))
            for _ in range(rounds)
        ]
        return median_ms(ours), median_ms(theirs)


def bench_compare(rounds: int) -> tuple[float, float]:
    """Median ms to compare two versions of War and Peace one paragraph apart, vs git diff."""
    text = novel("war_and_peace")
    with workdir() as base:
        project, plain = make_pair(base, {"war-and-peace.md": text})
        old, new = next(edits(text, 1))
        changed = text.replace(old, new.replace("the", "a"), 1).encode()
        for root in (project.root, plain):
            (root / "war-and-peace.md").write_bytes(changed)
        project.save()
        git(plain, "commit", "-qam", "edit")
        ours = [timed(lambda: project.compare("HEAD~1", "HEAD")) for _ in range(rounds)]
        theirs = [
            timed(lambda: git(plain, "diff", "--word-diff=porcelain", "HEAD~1", "HEAD"))
            for _ in range(rounds)
        ]
        return median_ms(ours), median_ms(theirs)


def main(argv: list[str] | None = None) -> list[tuple[str, float, float, str]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--saves", type=int, default=1000, help="history length")
    args = parser.parse_args(argv)
    rows = []
    pride = dict(chapters())
    ours, theirs = bench_save(pride, args.rounds)
    rows.append(("save, Pride and Prejudice in 61 chapters", ours, theirs, "<= 1.0x git"))
    ours, theirs = bench_save({"war-and-peace.md": novel("war_and_peace")}, args.rounds)
    rows.append(("save, War and Peace as one 3.2 MB file", ours, theirs, "<= 1.0x git"))
    ours, theirs = bench_history(args.saves, args.rounds)
    rows.append((f"history: newest 50 of {args.saves} saves", ours, theirs, "< 50 ms"))
    ours, theirs = bench_compare(args.rounds)
    rows.append(("compare War and Peace, one paragraph apart", ours, theirs, "< 300 ms"))
    print("| benchmark | GitWrite (median ms) | git (median ms) | ratio | goal |")
    print("|---|---|---|---|---|")
    for name, a, b, goal in rows:
        print(f"| {name} | {a:.1f} | {b:.1f} | {a / b:.2f}x | {goal} |")
    return rows


if __name__ == "__main__":
    main()
