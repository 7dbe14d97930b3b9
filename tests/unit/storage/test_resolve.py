"""Resolving a pack: ids from contents, deltas along chains, thin bases, git's checks."""

from __future__ import annotations

from dataclasses import replace

import pytest
from dulwich.objects import Blob, Commit, Tree

from gitwrite_sync.errors import InvalidPack, MissingObjects, TooLarge
from gitwrite_sync.storage.packparse import PackLimits, parse_pack
from gitwrite_sync.storage.resolve import PackResolver, object_id, resolve_alone
from tests.packbytes import Entry, delta, make_pack, whole_pack

LIMITS = PackLimits(1 << 20, 1000, 256 * 1024, 1 << 20, 4 << 20)
TEXT = b"".join(b"Paragraph %d of the chapter, with some words in it.\n\n" % i for i in range(200))
EDITED = TEXT.replace(b"Paragraph 7 ", b"Paragraph seven ")


def resolved(pack: bytes, externals: dict[str, tuple[int, bytes]] | None = None) -> PackResolver:
    resolver = resolve_alone(pack, parse_pack(pack, LIMITS), LIMITS)
    if externals:
        resolver.resolve(externals)
    return resolver


def raw_tree(*entries: tuple[bytes, bytes, bytes]) -> bytes:
    """A tree's raw content from (mode, name, hex id) triples, names unchecked."""
    return b"".join(
        mode + b" " + name + b"\x00" + bytes.fromhex(sha.decode()) for mode, name, sha in entries
    )


def test_every_id_is_computed_from_the_content() -> None:
    blob = Blob.from_string(TEXT)
    tree = Tree()
    tree.add(b"chapter.md", 0o100644, blob.id)
    pack = make_pack(
        [Entry(3, TEXT), Entry(3, delta(TEXT, EDITED), base=0), Entry(2, tree.as_raw_string())]
    )
    result = resolved(pack).finish()
    assert set(result.objects) == {blob.id.decode(), object_id(3, EDITED), tree.id.decode()}
    edited = result.objects[object_id(3, EDITED)]
    assert (edited.type_num, edited.size, edited.base_id) == (3, len(EDITED), blob.id.decode())
    assert result.content(edited.id) == EDITED
    assert isinstance(result.objects[tree.id.decode()].parsed, Tree)


def test_a_long_chain_in_any_order_resolves() -> None:
    versions = [TEXT.replace(b"Paragraph 1 ", b"Paragraph %d " % (1000 + i)) for i in range(30)]
    entries = [Entry(3, versions[0])]
    entries += [
        Entry(3, delta(versions[i - 1], versions[i]), base=object_id(3, versions[i - 1]))
        for i in range(1, 30)
    ]
    # REF_DELTA bases may come after the delta: put the chain in reverse.
    pack = make_pack([entries[0], *reversed(entries[1:])])
    result = resolved(pack).finish()
    assert len(result) == 30
    assert result.content(object_id(3, versions[-1])) == versions[-1]


def test_a_thin_pack_is_resolved_against_bases_from_outside() -> None:
    base_id = object_id(3, TEXT)
    pack = make_pack([Entry(3, delta(TEXT, EDITED), base=base_id)])
    resolver = resolved(pack)
    assert resolver.wanted() == {base_id}
    resolver.resolve({base_id: (3, TEXT)})
    result = resolver.finish()
    assert result.content(object_id(3, EDITED)) == EDITED
    assert base_id not in result.objects  # the base is not the pack's to store


def test_a_thin_base_nobody_has_is_missing() -> None:
    pack = make_pack([Entry(3, delta(TEXT, EDITED), base="ab" * 20)])
    with pytest.raises(MissingObjects) as caught:
        resolved(pack).finish()
    assert caught.value.missing == ("ab" * 20,)


def test_a_delta_that_does_not_fit_its_base_is_invalid() -> None:
    pack = make_pack([Entry(3, b"short"), Entry(3, delta(TEXT, EDITED), base=0)])
    with pytest.raises(InvalidPack, match="does not fit"):
        resolved(pack)


def test_a_delta_making_an_object_over_the_limit_is_refused_before_applying() -> None:
    huge = TEXT * 40  # ~2 MB from a few bytes of delta
    pack = make_pack([Entry(3, TEXT), Entry(3, delta(TEXT, huge), base=0)])
    with pytest.raises(TooLarge):
        resolved(pack)


def test_the_total_resolved_is_bounded() -> None:
    limits = replace(LIMITS, max_resolved_bytes=len(TEXT) * 5)
    entries = [Entry(3, TEXT)] + [
        Entry(3, delta(TEXT, TEXT + b"%d" % i), base=0) for i in range(10)
    ]
    pack = make_pack(entries)
    with pytest.raises(TooLarge, match="add up"):
        resolve_alone(pack, parse_pack(pack, limits), limits)


@pytest.mark.parametrize("name", [b".git", b".GIT", b".Git", b"..", b".", b"\xff\xfechapter.md"])
def test_unsafe_tree_entry_names_are_refused(name: bytes) -> None:
    blob = Blob.from_string(b"[core]\n\thooksPath = /tmp/evil\n")
    content = raw_tree((b"100644", name, blob.id))
    with pytest.raises(InvalidPack):
        resolved(make_pack([Entry(3, blob.as_raw_string()), Entry(2, content)]))


def test_a_malformed_commit_is_refused() -> None:
    with pytest.raises(InvalidPack, match="not a valid commit"):
        resolved(make_pack([Entry(1, b"author nobody\n\nno tree line\n")]))


def test_a_tree_with_entries_out_of_order_is_refused() -> None:
    blob = Blob.from_string(b"x\n")
    content = raw_tree((b"100644", b"b.md", blob.id), (b"100644", b"a.md", blob.id))
    with pytest.raises(InvalidPack, match="not a valid tree"):
        resolved(make_pack([Entry(2, content)]))


def test_a_good_commit_is_parsed() -> None:
    tree = Tree()
    commit = Commit()
    commit.tree = tree.id
    commit.author = commit.committer = b"Writer <w@example.com>"
    commit.author_time = commit.commit_time = 1_700_000_000
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = b"Save\n"
    result = resolved(whole_pack([tree, commit])).finish()
    parsed = result.objects[commit.id.decode()].parsed
    assert isinstance(parsed, Commit) and parsed.tree == tree.id
