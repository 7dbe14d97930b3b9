"""Prose-aware diff and merge: pure functions on text, no I/O.

* :mod:`~gitwrite.prose.tokens`: lossless splitting into paragraphs, sentences and words,
  and a writer's word count.
* :mod:`~gitwrite.prose.diff`: word-level comparison (runs for display, word statistics).
* :mod:`~gitwrite.prose.merge`: three-way merge by paragraph, sentence and word, with
  git-style conflict markers where both sides changed the same words.
"""

from __future__ import annotations

from gitwrite.prose.diff import Run, RunKind, WordStats, compare_text, stats_of, word_stats
from gitwrite.prose.merge import MergeResult, merge_text
from gitwrite.prose.tokens import count_words, split_paragraphs, split_sentences, split_words

__all__ = [
    "MergeResult",
    "Run",
    "RunKind",
    "WordStats",
    "compare_text",
    "count_words",
    "merge_text",
    "split_paragraphs",
    "split_sentences",
    "split_words",
    "stats_of",
    "word_stats",
]
