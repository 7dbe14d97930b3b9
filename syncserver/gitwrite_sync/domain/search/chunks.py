"""Cutting a file's text into the pieces the search index holds.

A piece is whole paragraphs (blocks between blank lines) adding up to about
`TARGET_CHARS`; a paragraph longer than `MAX_CHARS` is cut at sentence ends (else at a
space) into pieces of about `TARGET_CHARS`. Pieces keep the text exactly as written and
the line they start on, so a result can point into the file. Small pieces keep ranking and
snippets cheap on a 3 MB novel: the databases score and highlight a couple of kilobytes,
not the whole file.

Only text is indexed: a file that is not UTF-8, holds a NUL byte or is larger than
`MAX_FILE_BYTES` gives no pieces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TARGET_CHARS = 2000
MAX_CHARS = 4000
MAX_FILE_BYTES = 32 * 1024 * 1024
HIGHLIGHT_START, HIGHLIGHT_END = "\ue000", "\ue001"
"""Private-use characters the databases put around matches in snippets (`text_of` takes
them out of indexed text, so any in a snippet are ours)."""

_PARAGRAPH = re.compile(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int
    line: int
    """The line of the file the piece starts on (from 1)."""
    text: str


def text_of(data: bytes) -> str | None:
    """The text of a file, or None when it is not text worth indexing."""
    if len(data) > MAX_FILE_BYTES or b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if HIGHLIGHT_START in text or HIGHLIGHT_END in text:
        text = text.replace(HIGHLIGHT_START, "\ufffd").replace(HIGHLIGHT_END, "\ufffd")
    return text


def _cut(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``text[start:end]`` (one long paragraph) as spans of about `TARGET_CHARS`."""
    spans: list[tuple[int, int]] = []
    while end - start > MAX_CHARS:
        window = text[start + TARGET_CHARS // 2 : start + TARGET_CHARS + TARGET_CHARS // 2]
        cut = None
        for found in _SENTENCE_END.finditer(window):
            cut = start + TARGET_CHARS // 2 + found.end()
        if cut is None:
            space = window.rfind(" ")
            cut = start + TARGET_CHARS // 2 + space + 1 if space >= 0 else start + TARGET_CHARS
        spans.append((start, cut))
        start = cut
    spans.append((start, end))
    return spans


def chunk(text: str) -> list[Chunk]:
    """The pieces of ``text``, in order (none when it holds only white space)."""
    spans: list[tuple[int, int]] = []  # paragraph-sized spans, long paragraphs cut
    for found in _PARAGRAPH.finditer(text):
        if found.end() - found.start() > MAX_CHARS:
            spans.extend(_cut(text, found.start(), found.end()))
        else:
            spans.append((found.start(), found.end()))
    chunks: list[Chunk] = []
    line, counted = 1, 0
    first = 0
    while first < len(spans):
        start, end = spans[first]
        last = first
        while (
            last + 1 < len(spans)
            and end - start < TARGET_CHARS
            and spans[last + 1][1] - start <= MAX_CHARS
        ):
            last += 1
            end = spans[last][1]
        line += text.count("\n", counted, start)
        counted = start
        chunks.append(Chunk(len(chunks), line, text[start:end].strip()))
        first = last + 1
    return chunks
