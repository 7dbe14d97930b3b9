"""Splitting prose into paragraphs, sentences and words without losing a single character.

Every splitter here is lossless: ``"".join(split_x(text)) == text`` for any text, including
CRLF line endings, text without a final newline and the empty string. Diffs and merges are
built on that guarantee.
"""

from __future__ import annotations

import re

__all__ = ["count_words", "split_paragraphs", "split_sentences", "split_words"]

PARAGRAPH_BREAK = re.compile(r"\n(?:[^\S\n]*\n)+")
"""A line break followed by one or more blank (or whitespace-only) lines, whatever the line
endings. Only the end of a match is meaningful: a match starts at the ``\\n``, after any
``\\r`` (starting the pattern with an optional ``\\r`` makes it several times slower)."""

# A word is letters and digits (with any combining accents), joined inside by apostrophes
# (straight or curly) and hyphens, or by a point, comma or colon between digits: "don't",
# "well-known", "Anna Pávlovna's", "1,000", "10:30". Underscores are markup, not letters.
_LETTERS = r"(?:[^\W_][\u0300-\u036f]*)+"
_JOINER = r"(?:['\u2019\u02bc\-\u2010\u2011]|(?<=\d)[.,:](?=\d))"
_WORD_PATTERN = rf"{_LETTERS}(?:{_JOINER}{_LETTERS})*"
_WORD = re.compile(_WORD_PATTERN)
_TOKEN = re.compile(rf"{_WORD_PATTERN}|\s+|.", re.DOTALL)

_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*\s+")
_LAST_WORD = re.compile(r"([^\W\d_]+)\.$")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "messrs", "mme", "mlle", "dr", "st", "jr", "sr", "prof", "rev"}
    | {"capt", "col", "gen", "lt", "sgt", "hon", "esq", "vol"}
)


def split_paragraphs(text: str) -> list[str]:
    """Split text into paragraphs, each keeping the blank-line separator that follows it.

    Paragraphs are blocks of (possibly hard-wrapped) lines separated by blank lines; a
    leading run of blank lines is a piece of its own. The last paragraph keeps whatever
    ending the text has (one newline, none, or trailing blank lines).
    """
    pieces: list[str] = []
    start = 0
    for match in PARAGRAPH_BREAK.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences, each keeping the whitespace that follows it.

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` (with any closing quotes or brackets)
    followed by whitespace, unless the next word starts with a lower-case letter
    (``"Heavens! what an attack!" replied the prince``) or the full stop ends a title or an
    initial (``Mr. Darcy``, ``J. Austen``). Line breaks inside a sentence are kept in it.
    """
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        end = match.end()
        if end == len(paragraph):
            break
        if paragraph[end].islower():
            continue
        if match.group().startswith(".") and _is_abbreviation(paragraph[start : match.start() + 1]):
            continue
        pieces.append(paragraph[start:end])
        start = end
    if start < len(paragraph):
        pieces.append(paragraph[start:])
    return pieces


def _is_abbreviation(sentence_so_far: str) -> bool:
    """Whether the full stop ending ``sentence_so_far`` belongs to a title or an initial."""
    found = _LAST_WORD.search(sentence_so_far[-24:])
    if found is None:
        return False
    word = found.group(1)
    return word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())


def split_words(text: str) -> list[str]:
    """Split text into word, whitespace-run and single punctuation-character tokens."""
    return _TOKEN.findall(text)


def is_word(token: str) -> bool:
    """Whether a token from :func:`split_words` is a word (rather than space or punctuation)."""
    return _WORD.fullmatch(token) is not None


def count_words(text: str) -> int:
    """Count words as a writer does: punctuation is not counted, ``don't`` and
    ``well-known`` (also with a curly apostrophe) are one word each."""
    return len(_WORD.findall(text))
