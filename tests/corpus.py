"""The novels in the shared corpus (``../shared/corpus`` beside the project), read in place."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("GITWRITE_CORPUS", ROOT.parent / "shared" / "corpus"))


@cache
def novel(name: str) -> str:
    """The whole text of a novel (``pride_and_prejudice``, ``moby_dick``, ``war_and_peace``)."""
    path = CORPUS / f"{name}.txt"
    if not path.is_file():
        raise FileNotFoundError(
            f"the shared corpus is missing {path}: it lives in ../shared/corpus beside the project"
        )
    return path.read_text(encoding="utf-8").replace("\r\n", "\n")


@cache
def chapters(name: str = "pride_and_prejudice") -> tuple[tuple[str, str], ...]:
    """A novel split at its chapter headings into ``(file name, Markdown text)`` pairs."""
    text = novel(name)
    parts = re.split(r"(?m)^(?=(?:Chapter|CHAPTER) [0-9IVXLC]+)", text)
    out: list[tuple[str, str]] = []
    for part in parts:
        if not part.strip():
            continue
        heading, _, body = part.partition("\n")
        number = len(out) + 1
        out.append((f"chapter-{number:02d}.md", f"# {heading.strip()}\n{body}"))
    return tuple(out)


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a text (blocks between blank lines)."""
    return [p for p in text.split("\n\n") if p.strip()]
