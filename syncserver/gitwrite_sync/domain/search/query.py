"""What a reader types in the search box, turned into a query neither database can refuse.

The syntax is the web-search one PostgreSQL's ``websearch_to_tsquery`` reads:

* words must all appear, in any order: ``whale captain``;
* text in double quotes is a phrase, its words side by side: ``"call me ishmael"``
  (an unclosed quote runs to the end);
* ``-`` before a word or a quote excludes it: ``natasha -pierre``;
* ``or`` between words or phrases offers alternatives: ``natasha or sonya``; it binds
  looser than "and", so ``sad cat or fat rat`` is (sad and cat) or (fat and rat).

`parse` reads that into a `SearchQuery` (alternatives of terms), dropping what holds no
word at all (punctuation, a lone ``-``, an empty quote) and any alternative with no
positive term (neither index can list "everything but"). Each backend then renders it
(`SearchQuery.websearch`, `SearchQuery.fts5`) with every term quoted, so the text of a
term reaches the database's own tokenizer as a phrase and never as syntax. Control
characters and lone surrogates, which the databases refuse, are blanked first.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gitwrite_sync.errors import InvalidInput

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
_WORDISH = re.compile(r"[^\W_]")
_PIECE = re.compile(r'(-*)"([^"]*)(?:"|$)|([^\s"]+)')


@dataclass(frozen=True, slots=True)
class Term:
    """Words to find side by side (one word or a phrase); ``negated`` excludes them."""

    text: str
    negated: bool = False

    def websearch(self) -> str:
        return f'{"-" if self.negated else ""}"{self.text}"'

    def fts5(self) -> str:
        return '"' + self.text.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Alternatives (any may match), each a conjunction of terms with at least one
    positive term."""

    alternatives: tuple[tuple[Term, ...], ...]

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(t for alternative in self.alternatives for t in alternative)

    def websearch(self) -> str:
        """For ``websearch_to_tsquery``."""
        return " or ".join(" ".join(t.websearch() for t in alt) for alt in self.alternatives)

    def fts5(self) -> str:
        """For FTS5's ``MATCH``: ``("a" AND "b") NOT "c"`` per alternative, joined by OR."""
        rendered = []
        for alternative in self.alternatives:
            positive = " AND ".join(t.fts5() for t in alternative if not t.negated)
            expression = f"({positive})"
            for term in alternative:
                if term.negated:
                    expression = f"({expression} NOT {term.fts5()})"
            rendered.append(expression)
        return " OR ".join(rendered)


def _clean(text: str) -> str:
    """Control characters and lone surrogates become spaces (the databases refuse NUL and
    invalid UTF-8; the rest only get in the way)."""
    return "".join(" " if unicodedata.category(c) in {"Cc", "Cs"} else c for c in text)


def parse(typed: str) -> SearchQuery | None:
    """The query in ``typed``, or None when it asks for nothing findable.

    Raises:
        InvalidInput: longer than `MAX_QUERY_CHARS` characters or `MAX_TERMS` terms.
    """
    if len(typed) > MAX_QUERY_CHARS:
        raise InvalidInput(
            f"a search is at most {MAX_QUERY_CHARS} characters", field="q", length=len(typed)
        )
    alternatives: list[list[Term]] = [[]]
    count = 0
    for match in _PIECE.finditer(_clean(typed)):
        dashes, quoted, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            alternatives.append([])
            continue
        negated = bool(dashes) if quoted is not None else bare.startswith("-")
        text = " ".join((quoted if quoted is not None else bare.lstrip("-")).split())
        if not _WORDISH.search(text):
            continue
        count += 1
        if count > MAX_TERMS:
            raise InvalidInput(f"a search has at most {MAX_TERMS} words or phrases", field="q")
        alternatives[-1].append(Term(text, negated))
    kept = tuple(tuple(alt) for alt in alternatives if any(not t.negated for t in alt))
    return SearchQuery(kept) if kept else None
