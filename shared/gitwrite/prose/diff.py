"""Word-level comparison of two versions of a text, for display and for word counts.

The comparison is paragraph-first: the common beginning and end of the two texts are set
aside whole (cut at paragraph breaks), the paragraphs in between are diffed as units, then
the sentences of each region of changed paragraphs, and only then the words of each region
of changed sentences. A small edit of a long manuscript costs about as much as the edited
paragraph.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitwrite.prose._engine import common_ends, deadline_in, diff_anchored, diff_units, past
from gitwrite.prose.tokens import (
    count_words,
    is_word,
    split_paragraphs,
    split_sentences,
    split_words,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "COMPARE_TIMEOUT",
    "STATS_TIMEOUT",
    "Run",
    "RunKind",
    "WordStats",
    "compare_text",
    "stats_of",
    "word_stats",
]

COMPARE_TIMEOUT = 1.0
"""Seconds :func:`compare_text` spends looking for the smallest diff before settling for a
coarser one (a whole region shown as removed and added). Still exact, only less fine."""

STATS_TIMEOUT = 0.25
"""The same bound for :func:`word_stats`, which runs on every save."""


class RunKind(enum.StrEnum):
    """Whether a run of text is in both versions, only the new one, or only the old one."""

    SAME = "same"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of text of one kind; neighbouring runs in a comparison differ in kind."""

    kind: RunKind
    text: str


@dataclass(frozen=True, slots=True)
class WordStats:
    """Words added and removed between two versions."""

    added: int
    removed: int

    @property
    def net(self) -> int:
        """Words gained (negative when the text got shorter)."""
        return self.added - self.removed


def compare_text(old: str, new: str) -> list[Run]:
    """Compare two versions word by word.

    Returns:
        Runs in reading order, neighbouring runs of the same kind joined, no empty runs.
        Joining the ``SAME`` and ``REMOVED`` texts gives ``old`` exactly; joining ``SAME``
        and ``ADDED`` gives ``new``. Within a change the removed text comes before the
        added text, so a view can show "The [character → protagonist] walked".
    """
    if old == new:
        return [Run(RunKind.SAME, old)] if old else []
    deadline = deadline_in(COMPARE_TIMEOUT)
    head, tail = common_ends((old, new))
    runs = [Run(RunKind.SAME, old[:head])]
    runs += _diff_middle(old[head : len(old) - tail], new[head : len(new) - tail], deadline)
    runs.append(Run(RunKind.SAME, old[len(old) - tail :]))
    return _coalesce(runs)


def word_stats(old: str, new: str) -> WordStats:
    """Count the words added and removed between two versions.

    The same as ``stats_of(compare_text(old, new))`` without building the unchanged runs,
    and within :data:`STATS_TIMEOUT` (a diff cut short counts whole regions as removed and
    added, so the figures of a vast rewrite are then rough).
    """
    if old == new:
        return WordStats(0, 0)
    deadline = deadline_in(STATS_TIMEOUT)
    head, tail = common_ends((old, new))
    return stats_of(
        _diff_middle(old[head : len(old) - tail], new[head : len(new) - tail], deadline)
    )


def stats_of(runs: Sequence[Run]) -> WordStats:
    """Count the words in the added and the removed runs of a comparison."""
    added = sum(count_words(run.text) for run in runs if run.kind is RunKind.ADDED)
    removed = sum(count_words(run.text) for run in runs if run.kind is RunKind.REMOVED)
    return WordStats(added, removed)


def _sentences(text: str) -> list[str]:
    return [s for paragraph in split_paragraphs(text) for s in split_sentences(paragraph)]


_PARAGRAPHS, _SENTENCES, _WORDS = range(3)
_SPLITTERS = {_PARAGRAPHS: split_paragraphs, _SENTENCES: _sentences, _WORDS: split_words}


def _diff_middle(old: str, new: str, deadline: float, level: int = _PARAGRAPHS) -> list[Run]:
    """Diff by paragraphs, then by sentences inside each region of changed paragraphs, then
    by words inside each region of changed sentences.

    Regions only removed or only added are not looked into, nor any region once the
    deadline has passed. Diffing the big units first keeps the word diffs small, and a moved
    or rewritten sentence reads as one change. Sentences are matched whatever their spacing
    (a re-wrapped sentence is the same sentence), then diffed word by word if it differs;
    words are matched before the spaces and punctuation between them.
    """
    old_units, new_units = _SPLITTERS[level](old), _SPLITTERS[level](new)
    if level == _SENTENCES:
        ops = diff_units(_spacing_free(old_units), _spacing_free(new_units), deadline)
    elif level == _WORDS:
        ops = diff_anchored(old_units, new_units, deadline, (is_word,), semantic=True)
    else:
        ops = diff_units(old_units, new_units, deadline)
    runs: list[Run] = []
    for op in ops:
        removed = "".join(old_units[op.a_start : op.a_end])
        added = "".join(new_units[op.b_start : op.b_end])
        if op.equal and removed == added:
            runs.append(Run(RunKind.SAME, removed))
        elif op.equal:  # the same sentences, spaced differently
            for i, j in zip(range(op.a_start, op.a_end), range(op.b_start, op.b_end), strict=True):
                runs += _diff_middle(old_units[i], new_units[j], deadline, _WORDS)
        elif level == _WORDS or not removed or not added or past(deadline):
            runs += [Run(RunKind.REMOVED, removed), Run(RunKind.ADDED, added)]
        else:
            runs += _diff_middle(removed, added, deadline, level + 1)
    return runs


def _spacing_free(units: list[str]) -> list[str]:
    return [" ".join(unit.split()) for unit in units]


def _coalesce(runs: list[Run]) -> list[Run]:
    """Drop empty runs and join neighbours of the same kind."""
    groups: list[tuple[RunKind, list[str]]] = []
    for run in runs:
        if not run.text:
            continue
        if groups and groups[-1][0] is run.kind:
            groups[-1][1].append(run.text)
        else:
            groups.append((run.kind, [run.text]))
    return [Run(kind, "".join(texts)) for kind, texts in groups]
