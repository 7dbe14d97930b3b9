"""A short tour of the engine on a copy of Pride and Prejudice (``make run``).

It makes a project from the novel's chapters in a folder of your choice (a temporary one
by default), then saves, compares, explores, merges, marks a milestone, annotates and
repacks, printing what a writer would see at each step. The result is an ordinary git
repository: open it with ``git log`` afterwards.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from gitwrite.maintenance import objects_size, repack
from gitwrite.model import Author
from gitwrite.project import Project
from gitwrite.prose import Run, RunKind

HERE = Path(__file__).resolve()


def find_corpus(explicit: str | None) -> Path | None:
    """The shared corpus: ``--corpus``, ``$GITWRITE_CORPUS``, or ``../shared/corpus`` beside
    the project (or the current folder)."""
    candidates = [explicit, os.environ.get("GITWRITE_CORPUS")]
    candidates += [str(HERE.parents[2].parent / "shared" / "corpus"), "../shared/corpus"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "pride_and_prejudice.txt").is_file():
            return Path(candidate)
    return None


def split_chapters(text: str) -> dict[str, str]:
    parts = [p for p in re.split(r"(?m)^(?=Chapter \d+)", text) if p.strip()]
    out = {}
    for number, part in enumerate(parts, 1):
        heading, _, body = part.partition("\n")
        out[f"chapter-{number:02d}.md"] = f"# {heading.strip()}\n{body}"
    return out


def show_runs(runs: Sequence[Run]) -> str:
    out = []
    for run in runs:
        kind, text = run.kind, run.text
        if kind is RunKind.SAME:
            out.append(text if len(text) < 60 else f"{text[:25]}…{text[-25:]}")
        else:
            out.append(f"[{'+' if kind is RunKind.ADDED else '-'}{text}]")
    return "".join(out).replace("\n", " ")


def step(title: str) -> None:
    print(f"\n== {title}")


def run_demo(folder: Path, corpus: Path | None) -> Project:
    if corpus is not None:
        files = split_chapters((corpus / "pride_and_prejudice.txt").read_text(encoding="utf-8"))
    else:
        print("(the shared corpus was not found: using a short stand-in text)")
        files = {"chapter-01.md": "# Chapter 1\n\nIt is a truth universally acknowledged.\n"}
    step(f"Create a project in {folder}")
    project = Project.create(folder, author=Author("Jane Austen", "jane@example.com"))
    project.write_files({p: t.encode() for p, t in files.items()})
    started = time.perf_counter()
    saved = project.save("Import Pride and Prejudice")
    print(f"saved {len(files)} chapters in {(time.perf_counter() - started) * 1000:.0f} ms")

    step("Edit a sentence and look at the status")
    text = project.read("chapter-01.md")
    project.write_files(
        {"chapter-01.md": text.replace("a single man", "a wealthy bachelor", 1).encode()}
    )
    for change in project.status().changes:
        print(
            f"{change.kind:>8} {change.path}: +{change.words_added} -{change.words_removed} words"
        )
    saved = project.save()
    print(f"saved: {saved.summary} ({saved.short_id})")

    step("Compare with the save before")
    for comparison in project.compare("HEAD~1", "HEAD"):
        print(f"{comparison.path}: {show_runs(comparison.runs)[:200]}")

    step("Explore a darker ending, then merge it into the main story")
    project.explorations.create("darker ending", switch=True)
    last = sorted(files)[-1]
    project.write_files(
        {last: (project.read(last) + "\nAnd then it rained for a week.\n").encode()}
    )
    project.save()
    project.explorations.switch("main")
    outcome = project.explorations.merge("darker ending")
    merged_as = outcome.save.short_id if outcome.save else "none"
    print(f"{outcome.status}: {', '.join(outcome.changed)} changed; merge save {merged_as}")

    step("Mark a milestone and annotate a sentence")
    project.milestones.create("first draft", "Everything in one place")
    print("milestones:", ", ".join(m.name for m in project.milestones.list()))
    start = project.read("chapter-01.md").index("wealthy bachelor")
    note = project.annotations.create(
        "chapter-01.md",
        start,
        start + len("wealthy bachelor"),
        kind="comment",
        body="Is 'bachelor' too modern here?",
    )
    print(f"annotation on {note.path}: {note.body!r}")

    step("History, newest first")
    for info in project.history(limit=5):
        print(f"{info.short_id} {info.time:%H:%M:%S} +{info.words_added:<6} {info.summary}")

    step("Repack the history into deltas")
    before = objects_size(project.repo)
    report = repack(project.repo)
    print(
        f".git/objects: {before / 1e6:.2f} MB -> {objects_size(project.repo) / 1e6:.2f} MB "
        f"({report.deltas} of {report.objects} objects stored as deltas)"
    )
    print(f"\nDone. The project is an ordinary git repository: git -C {folder} log --stat")
    return project


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", nargs="?", help="where to make the project (default: temporary)")
    parser.add_argument("--corpus", help="folder holding pride_and_prejudice.txt")
    args = parser.parse_args(argv)
    folder = (
        Path(args.folder)
        if args.folder
        else Path(tempfile.mkdtemp(prefix="gitwrite-demo-")) / "pride-and-prejudice"
    )
    run_demo(folder, find_corpus(args.corpus))


if __name__ == "__main__":
    main()
