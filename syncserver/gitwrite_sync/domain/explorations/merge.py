"""Merging two versions of a project file by file, as the desktop does (pure).

The same rules as `gitwrite.merging`: a file changed on one side only takes that side;
a file both sides changed is merged three ways against the merge base with the prose
merge (`gitwrite.prose.merge_text`: paragraphs, then sentences, then words). It is a
conflict when both changed the same words, both added the file with different texts,
one deleted it and the other changed it, or both changed a file that is not text. The
server never leaves a merge half done: with any conflict nothing is written and the
conflicting files are reported (a writer resolves them on the desktop).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dulwich.objects import Blob

from gitwrite import prose
from gitwrite.mergestate import ConflictKind, kind_of
from gitwrite.texts import decode_text
from gitwrite_sync.domain.content import Entry

Files = Mapping[str, Entry]


@dataclass(slots=True)
class MergePlan:
    """What merging theirs into ours changes.

    Attributes:
        changes: Path → the entry ours gets (None: the file is deleted).
        blobs: New merged texts to store.
        conflicts: Path → what happened to it on each side.
        words: Words added and removed relative to ours.
    """

    changes: dict[str, Entry | None] = field(default_factory=dict)
    blobs: list[Blob] = field(default_factory=list)
    conflicts: dict[str, ConflictKind] = field(default_factory=dict)
    words: tuple[int, int] = (0, 0)


def _same(a: Entry | None, b: Entry | None) -> bool:
    return (a is None) == (b is None) and (a is None or b is None or a[1] == b[1])


def needed(base: Files, ours: Files, theirs: Files) -> set[str]:
    """The blob ids `plan` reads: every version of every file the merge changes."""
    ids: set[str] = set()
    for path in set(base) | set(ours) | set(theirs):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if _same(o, t) or _same(b, t):
            continue
        ids.update(e[1] for e in (b, o, t) if e is not None)
    return ids


def plan(
    base: Files,
    ours: Files,
    theirs: Files,
    blobs: Mapping[str, bytes],
    labels: tuple[str, str],
) -> MergePlan:
    """Merge ``theirs`` into ``ours`` (file path → entry) against ``base``."""
    result = MergePlan()
    added = removed = 0
    for path in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if _same(o, t) or _same(b, t):
            continue
        datas = [blobs[e[1]] if e is not None else None for e in (b, o, t)]
        texts = [decode_text(d) if d is not None else None for d in datas]
        binary = any(d is not None and x is None for d, x in zip(datas, texts, strict=True))
        if _same(b, o):  # only theirs changed it
            result.changes[path] = t
            merged_text: str | None = texts[2] if t is not None else ""
        elif binary or o is None or t is None:
            result.conflicts[path] = kind_of(b, o, t)
            continue
        else:
            merged = prose.merge_text(
                texts[0] or "",
                texts[1] or "",
                texts[2] or "",
                ours_label=labels[0],
                theirs_label=labels[1],
            )
            if not merged.clean:
                result.conflicts[path] = kind_of(b, o, t)
                continue
            blob = Blob.from_string(merged.text.encode("utf-8"))
            result.blobs.append(blob)
            result.changes[path] = (o[0], blob.id.decode())
            merged_text = merged.text
        our_text = texts[1] if o is not None else ""
        if our_text is not None and merged_text is not None:
            stats = prose.word_stats(our_text, merged_text)
            added, removed = added + stats.added, removed + stats.removed
    result.words = (added, removed)
    return result
