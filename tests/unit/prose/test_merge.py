"""Three-way merge of prose: clean where the writers' changes are apart, conflicts otherwise."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitwrite.prose import MergeResult, merge_text, split_paragraphs, split_sentences, split_words
from gitwrite.prose import merge as merge_module
from gitwrite.prose._check import keeps_each_change_once
from gitwrite.prose._hunks import OURS, THEIRS, Hunk, split_on
from gitwrite.prose._threeway import Segment
from gitwrite.prose.tokens import is_word
from tests.corpus import chapters, novel

FAST = settings(max_examples=120, deadline=None)

BLOCK = re.compile(
    r"<<<<<<< ours\r?\n(.*?)\|\|\|\|\|\|\| base\r?\n(.*?)=======\r?\n(.*?)>>>>>>> theirs\r?\n",
    re.DOTALL,
)


def resolve(text: str, side: str) -> str:
    """The text with every conflict block replaced by one side's lines, as a writer would."""
    group = {"ours": 1, "base": 2, "theirs": 3}[side]
    return BLOCK.sub(lambda block: block.group(group), text)


def chapter(number: int) -> str:
    return chapters("pride_and_prejudice")[number - 1][1]


@cache
def sentence_pool() -> tuple[str, ...]:
    """Distinct one-line sentences of Pride and Prejudice that split back the same way."""
    seen: dict[str, None] = {}
    for paragraph in split_paragraphs(novel("pride_and_prejudice")):
        for raw in split_sentences(paragraph):
            sentence = " ".join(raw.split())
            words = sum(1 for token in split_words(sentence) if is_word(token))
            if (
                words >= 4
                and split_sentences(sentence) == [sentence]
                and split_sentences(f"{sentence} {sentence}") == [f"{sentence} ", sentence]
            ):
                seen.setdefault(sentence, None)
        if len(seen) >= 600:
            break
    return tuple(seen)


# --- a document model for generated merges ------------------------------------------------


@dataclass(frozen=True)
class Edit:
    who: str  # "ours", "theirs" or "both"
    action: str  # "replace", "delete" or "insert" (a new sentence after this one)
    sentence: str  # the new sentence for replace and insert


Slots = dict[tuple[int, int], Edit]


def render(paragraphs: list[list[str]]) -> str:
    return "\n\n".join(" ".join(p) for p in paragraphs if p) + "\n"


def apply(paragraphs: list[list[str]], edits: Slots, sides: set[str]) -> str:
    out = []
    for i, paragraph in enumerate(paragraphs):
        new: list[str] = []
        for j, sentence in enumerate(paragraph):
            edit = edits.get((i, j))
            if edit is None or edit.who not in sides:
                new.append(sentence)
            elif edit.action == "replace":
                new.append(edit.sentence)
            elif edit.action == "insert":
                new += [sentence, edit.sentence]
        out.append(new)
    return render(out)


@dataclass(frozen=True)
class Case:
    paragraphs: list[list[str]]
    edits: Slots

    @property
    def base(self) -> str:
        return render(self.paragraphs)

    @property
    def ours(self) -> str:
        return apply(self.paragraphs, self.edits, {"ours", "both"})

    @property
    def theirs(self) -> str:
        return apply(self.paragraphs, self.edits, {"theirs", "both"})

    @property
    def expected(self) -> str:
        return apply(self.paragraphs, self.edits, {"ours", "theirs", "both"})


@st.composite
def cases(draw: st.DrawFn, who: tuple[str, ...] = ("ours", "theirs")) -> Case:
    """Paragraphs of distinct corpus sentences; each sentence edited by at most one side
    (or identically by both when ``who`` has "both"): replaced, deleted, or followed by a new
    sentence. No paragraph loses all its sentences.

    A sentence both sides edit has no sentence edited by one side only next to it: with new
    sentences on both sides of a shared one, where the shared one belongs is a guess (ours
    turning "B C D" into "X Y" while theirs turns C into Y could be "B→X, C→Y, D deleted" or
    "B C→X, D→Y"), and a guess is not a clean merge."""
    pool = sentence_pool()
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    total = sum(sizes)
    picks = draw(
        st.lists(st.sampled_from(pool), min_size=2 * total, max_size=2 * total, unique=True)
    )
    fresh = iter(picks[total:])
    sentences = iter(picks[:total])
    paragraphs = [[next(sentences) for _ in range(size)] for size in sizes]
    edits: Slots = {}
    for i, size in enumerate(sizes):
        for j in range(size):
            owner = draw(st.sampled_from([None, *who]))
            if owner is not None:
                action = draw(st.sampled_from(["replace", "delete", "insert"]))
                edits[i, j] = Edit(owner, action, next(fresh))
        if all(edits.get((i, j), Edit("", "", "")).action == "delete" for j in range(size)):
            edits[i, 0] = Edit(edits[i, 0].who, "replace", edits[i, 0].sentence)
    for (i, j), edit in list(edits.items()):
        if edit.who == "both":
            for beside in ((i, j - 1), (i, j + 1)):
                if beside in edits and edits[beside].who != "both":
                    del edits[beside]
    return Case(paragraphs, edits)


# --- properties ---------------------------------------------------------------------------


@FAST
@given(cases())
def test_disjoint_sentence_edits_merge_cleanly_and_exactly(case: Case) -> None:
    result = merge_text(case.base, case.ours, case.theirs)
    assert result == MergeResult(case.expected, 0)
    assert result.clean


@FAST
@given(cases(who=("ours", "theirs", "both")))
def test_changes_made_on_both_sides_appear_once(case: Case) -> None:
    assert merge_text(case.base, case.ours, case.theirs) == MergeResult(case.expected, 0)


@FAST
@given(cases(), st.data())
def test_changing_the_same_word_differently_conflicts_and_keeps_all_three_versions(
    case: Case, data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(case.paragraphs) - 1), label="paragraph")
    j = data.draw(st.integers(0, len(case.paragraphs[i]) - 1), label="sentence")
    tokens = split_words(case.paragraphs[i][j])
    k = data.draw(st.sampled_from([n for n, t in enumerate(tokens) if is_word(t)]), label="word")
    edits = {slot: edit for slot, edit in case.edits.items() if slot[0] != i}
    mine, yours = (
        "".join([*tokens[:k], "Alpha", *tokens[k + 1 :]]),
        "".join([*tokens[:k], "Omega", *tokens[k + 1 :]]),
    )
    edits[i, j] = Edit("ours", "replace", mine)
    ours = apply(case.paragraphs, edits, {"ours"})
    edits[i, j] = Edit("theirs", "replace", yours)
    theirs = apply(case.paragraphs, edits, {"theirs"})
    result = merge_text(case.base, ours, theirs)
    assert result.conflicts == 1
    [block] = BLOCK.findall(result.text)
    assert mine in block[0] and case.paragraphs[i][j] in block[1] and yours in block[2]
    # choosing a side keeps that side's paragraph, and both sides' edits elsewhere, exactly
    del edits[i, j]
    for side, sentence in (("ours", mine), ("theirs", yours)):
        chosen = {**edits, (i, j): Edit("both", "replace", sentence)}
        assert resolve(result.text, side) == apply(
            case.paragraphs, chosen, {"ours", "theirs", "both"}
        )
    assert resolve(result.text, "base") == apply(case.paragraphs, edits, {"ours", "theirs"})


@FAST
@given(cases(), st.data())
def test_different_words_of_one_sentence_merge_word_by_word(
    case: Case, data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(case.paragraphs) - 1), label="paragraph")
    j = data.draw(st.integers(0, len(case.paragraphs[i]) - 1), label="sentence")
    tokens = split_words(case.paragraphs[i][j])
    words = [n for n, t in enumerate(tokens) if is_word(t)]
    a, b = sorted(data.draw(st.lists(st.sampled_from(words), min_size=2, max_size=2, unique=True)))

    def with_words(first: str, second: str) -> str:
        return "".join([*tokens[:a], first, *tokens[a + 1 : b], second, *tokens[b + 1 :]])

    edits = {slot: edit for slot, edit in case.edits.items() if slot[0] != i}
    ours_edits = {**edits, (i, j): Edit("ours", "replace", with_words("Alpha", tokens[b]))}
    theirs_edits = {**edits, (i, j): Edit("theirs", "replace", with_words(tokens[a], "Omega"))}
    both = {**edits, (i, j): Edit("both", "replace", with_words("Alpha", "Omega"))}
    result = merge_text(
        case.base,
        apply(case.paragraphs, ours_edits, {"ours"}),
        apply(case.paragraphs, theirs_edits, {"theirs"}),
    )
    assert result == MergeResult(apply(case.paragraphs, both, {"ours", "theirs", "both"}), 0)


@FAST
@given(cases())
def test_a_clean_merge_is_the_same_whichever_side_is_ours(case: Case) -> None:
    forward = merge_text(case.base, case.ours, case.theirs)
    backward = merge_text(case.base, case.theirs, case.ours)
    assert forward.clean and backward == forward


PIECES = st.sampled_from(
    ["Word", " ", "other", ".", ",", "\n", "\n\n", "\r\n", "“", "”", "é", "—", "Mr.", "?"]
)
raw_texts = st.lists(PIECES, max_size=30).map("".join)


@FAST
@given(raw_texts, raw_texts, raw_texts)
def test_merge_of_arbitrary_texts_is_symmetric_when_clean(base: str, a: str, b: str) -> None:
    forward, backward = merge_text(base, a, b), merge_text(base, b, a)
    assert forward.clean == backward.clean
    if forward.clean:
        assert forward.text == backward.text
    else:
        assert forward.conflicts == backward.conflicts
        assert resolve(forward.text, "ours") == resolve(backward.text, "theirs")


@FAST
@given(raw_texts, raw_texts)
def test_a_side_left_unchanged_takes_the_other_side(base: str, edited: str) -> None:
    assert merge_text(base, edited, base) == MergeResult(edited, 0)
    assert merge_text(base, base, edited) == MergeResult(edited, 0)
    assert merge_text(base, edited, edited) == MergeResult(edited, 0)


def sentences_of(text: str) -> list[str]:
    return [" ".join(s.split()) for s in split_sentences(text) if s.strip()]


@settings(max_examples=40, deadline=None)
@given(cases())
def test_a_merge_cut_short_by_the_timeout_may_conflict_but_never_loses_text(case: Case) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(merge_module, "MERGE_TIMEOUT", 0.0)
        result = merge_text(case.base, case.ours, case.theirs)
    if result.clean:
        assert result.text == case.expected
        return
    assert len(BLOCK.findall(result.text)) == result.conflicts
    known = {*sentences_of(case.base), *sentences_of(case.ours), *sentences_of(case.theirs)}
    for side in ("ours", "theirs"):
        resolved = sentences_of(resolve(result.text, side))
        assert set(resolved) <= known  # nothing garbled
        assert len(resolved) == len(set(resolved))  # nothing repeated
        assert set(sentences_of(getattr(case, side))) - set(resolved) <= set(
            sentences_of(case.base)
        )  # every sentence the side wrote is there (base ones the other side may delete)


@FAST
@given(cases(), st.sampled_from(["ours", "theirs"]))
def test_one_side_converting_to_crlf_merges_with_the_others_edits(case: Case, side: str) -> None:
    ours, theirs = case.ours, case.theirs
    if side == "ours":
        ours = ours.replace("\n", "\r\n")
    else:
        theirs = theirs.replace("\n", "\r\n")
    result = merge_text(case.base, ours, theirs)
    assert result == MergeResult(case.expected.replace("\n", "\r\n"), 0)


# --- examples from the corpus -------------------------------------------------------------


def paragraph_of(chapter_text: str, start: str) -> str:
    return next(p for p in split_paragraphs(chapter_text) if p.startswith(start))


def test_two_writers_edit_different_sentences_of_one_paragraph() -> None:
    base = chapter(1)
    paragraph = paragraph_of(base, '"Mr. Bennet, how can you abuse')
    ours = base.replace("You\ntake delight in vexing me.", "You\ntake such delight in vexing me.")
    theirs = base.replace("for my poor nerves.", "for my poor, poor nerves.")
    result = merge_text(base, ours, theirs)
    assert result.clean
    assert result.text == base.replace(
        paragraph,
        paragraph.replace("take delight", "take such delight").replace(
            "poor nerves", "poor, poor nerves"
        ),
    )


def test_the_character_becomes_the_protagonist_while_the_walk_becomes_a_run() -> None:
    base = "The character walked home. It was late.\n\nThe rain fell.\n"
    ours = "The protagonist walked home. It was late.\n\nThe rain fell.\n"
    theirs = "The character ran home. It was late.\n\nThe rain fell.\n"
    assert merge_text(base, ours, theirs) == MergeResult(
        "The protagonist ran home. It was late.\n\nThe rain fell.\n", 0
    )


def test_the_same_word_changed_differently_is_a_labelled_conflict_of_the_paragraph() -> None:
    base = "First paragraph.\n\nThe character walked home. It was late.\n\nLast one.\n"
    ours = base.replace("character", "protagonist")
    theirs = base.replace("character", "heroine")
    result = merge_text(
        base, ours, theirs, ours_label="my draft", theirs_label="Ann's draft", base_label="saved"
    )
    assert result.conflicts == 1
    assert not result.clean
    assert result.text == (
        "First paragraph.\n\n"
        "<<<<<<< my draft\n"
        "The protagonist walked home. It was late.\n"
        "||||||| saved\n"
        "The character walked home. It was late.\n"
        "=======\n"
        "The heroine walked home. It was late.\n"
        ">>>>>>> Ann's draft\n"
        "\n"
        "Last one.\n"
    )


def test_a_paragraph_deleted_on_one_side_and_edited_on_the_other_conflicts() -> None:
    base = chapter(1)
    paragraph = paragraph_of(base, "Mr. Bennet made no answer.")
    ours = base.replace(paragraph, "")
    theirs = base.replace(paragraph, paragraph.replace("no answer", "no answer at all"))
    result = merge_text(base, ours, theirs)
    assert result.conflicts == 1
    [(mine, original, yours)] = BLOCK.findall(result.text)
    assert mine == ""
    assert original == paragraph
    assert yours == paragraph.replace("no answer", "no answer at all")
    assert resolve(result.text, "ours") == ours
    assert resolve(result.text, "theirs") == theirs


def test_identical_edits_on_both_sides_appear_once() -> None:
    base = chapter(2)
    edited = base.replace(
        "Mr. Bennet was among the earliest", "Mr. Bennet was among the very first"
    )
    ours = edited.replace("which she thought", "which, she thought,", 1)
    result = merge_text(base, ours, edited)
    assert result == MergeResult(ours, 0)
    assert result.text.count("among the very first") == 1


def test_a_deletion_both_made_inside_a_larger_rewrite_of_one_side() -> None:
    base = "He came in. The room was cold and dark. Nobody spoke.\n"
    ours = "He came in. The cold, dark room was silent.\n"
    theirs = "He came in. The room was cold and dark.\n"
    assert merge_text(base, ours, theirs) == MergeResult(ours, 0)
    assert merge_text(base, theirs, ours) == MergeResult(ours, 0)


def test_a_sentence_deleted_by_one_side_and_worked_into_another_by_the_other_conflicts() -> None:
    base = "He came in. The room was cold. Nobody spoke a word.\n"
    ours = "He came in. The room was cold and nobody spoke a word.\n"
    theirs = "He came in. The room was cold.\n"
    result = merge_text(base, ours, theirs)
    assert result.conflicts == 1
    assert resolve(result.text, "ours") == ours
    assert resolve(result.text, "theirs") == theirs


def test_a_new_paragraph_after_a_paragraph_the_other_side_edited() -> None:
    base = "Opening.\n\nThe last paragraph of the chapter.\n"
    ours = "Opening.\n\nThe final paragraph of the chapter.\n"
    theirs = base + "\nA paragraph added at the end.\n"
    assert merge_text(base, ours, theirs) == MergeResult(
        "Opening.\n\nThe final paragraph of the chapter.\n\nA paragraph added at the end.\n", 0
    )


def test_paragraphs_added_at_the_same_place_by_both_sides_conflict() -> None:
    base = "Opening.\n\nMiddle.\n"
    ours = base + "\nOur new ending.\n"
    theirs = base + "\nTheir new ending.\n"
    result = merge_text(base, ours, theirs)
    assert result.conflicts == 1  # which comes first is not ours to guess
    assert resolve(result.text, "ours") == ours
    assert resolve(result.text, "theirs") == theirs
    assert merge_text(base, ours, ours.replace("Opening", "Start")) == MergeResult(
        ours.replace("Opening", "Start"), 0
    )


def test_a_sentence_added_to_a_paragraph_the_other_side_deleted_conflicts() -> None:
    base = "Kept.\n\nDoomed paragraph here. It ends.\n"
    ours = "Kept.\n"
    theirs = "Kept.\n\nDoomed paragraph here. It ends. But one more sentence.\n"
    result = merge_text(base, ours, theirs)
    assert result.conflicts == 1
    assert resolve(result.text, "ours") == ours
    assert resolve(result.text, "theirs") == theirs


def test_a_side_converting_line_endings_does_not_conflict_with_edits() -> None:
    base = chapter(4)
    ours = base.replace("\n", "\r\n")
    theirs = base.replace("you are a great deal too apt", "you are much too apt", 1)
    expected = ours.replace("you are a great deal too apt", "you are much too apt", 1)
    assert merge_text(base, ours, theirs) == MergeResult(expected, 0)
    assert merge_text(base, theirs, ours) == MergeResult(expected, 0)
    back = merge_text(ours, base, ours.replace("a great deal", "much", 1))
    assert back == MergeResult(theirs, 0)


def test_mixed_line_endings_merge_as_they_are() -> None:
    base = "One line.\r\nAnother line.\n\nSecond paragraph.\n"
    ours = base.replace("One line.", "First line.")
    theirs = base.replace("Second paragraph.", "Last paragraph.")
    assert merge_text(base, ours, theirs) == MergeResult(
        "First line.\r\nAnother line.\n\nLast paragraph.\n", 0
    )


def test_crlf_texts_merge_and_conflict_with_crlf_markers() -> None:
    base = chapter(4).replace("\n", "\r\n")
    ours = base.replace("When Jane and Elizabeth were alone", "When Jane and Lizzy were alone")
    theirs = base.replace("you are a great deal too apt", "you are much too apt", 1)
    assert ours != base and theirs != base
    result = merge_text(base, ours, theirs)
    assert result == MergeResult(
        ours.replace("you are a great deal too apt", "you are much too apt", 1), 0
    )
    clash = base.replace("When Jane and Elizabeth were alone", "When Jane and Kitty were alone")
    conflicted = merge_text(base, ours, clash)
    assert conflicted.conflicts == 1
    assert "\r\n<<<<<<< ours\r\n" in conflicted.text
    assert "\n=======\r\n" in conflicted.text and "\r\n>>>>>>> theirs\r\n" in conflicted.text
    assert "\n" not in conflicted.text.replace("\r\n", "")
    assert resolve(conflicted.text, "ours") == ours
    assert resolve(conflicted.text, "theirs") == clash


def test_a_conflict_in_a_last_paragraph_without_final_newline_keeps_markers_on_lines() -> None:
    base = "Start.\n\nThe end of it"
    result = merge_text(base, "Start.\n\nThe end of all", "Start.\n\nThe end of nothing")
    assert result.text == (
        "Start.\n\n"
        "<<<<<<< ours\nThe end of all\n"
        "||||||| base\nThe end of it\n"
        "=======\nThe end of nothing\n"
        ">>>>>>> theirs\n"
    )


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "expected"),
    [
        ("", "", "", MergeResult("", 0)),
        ("", "New.\n", "", MergeResult("New.\n", 0)),
        ("Gone.\n", "", "Gone.\n", MergeResult("", 0)),
        ("Gone.\n", "", "", MergeResult("", 0)),
        (
            "",
            "A.\n",
            "B.\n",
            MergeResult("<<<<<<< ours\nA.\n||||||| base\n=======\nB.\n>>>>>>> theirs\n", 1),
        ),
        ("One.", "One. Two.", "Zero. One.", MergeResult("Zero. One. Two.", 0)),
    ],
)
def test_edge_texts(base: str, ours: str, theirs: str, expected: MergeResult) -> None:
    assert merge_text(base, ours, theirs) == expected


def test_unicode_names_and_curly_quotes_of_war_and_peace_merge_cleanly() -> None:
    base = novel("war_and_peace")
    ours = base.replace("Pávlovna had had a cough", "Pávlovna Schérer had had a cough", 1)
    theirs = base.replace("if you don’t tell me that", "if you don’t tell me—now—that", 1)
    assert ours != base and theirs != base
    result = merge_text(base, ours, theirs)
    assert result.clean
    assert result.text == ours.replace(
        "if you don’t tell me that", "if you don’t tell me—now—that", 1
    )


# --- the check that guards the finer merge ------------------------------------------------


def test_the_check_accepts_each_change_once_and_rejects_a_lost_or_repeated_change() -> None:
    kept = Segment("The ", "The ", "The ", "The ")
    ours = Segment("character", "protagonist", "character", "protagonist")
    middle = Segment(" walked ", " walked ", " walked ", " walked ")
    theirs = Segment("home", "home", "away", "away")
    assert keeps_each_change_once([kept, ours, middle, theirs])
    lost = Segment("home", "home", "away", "home")
    assert not keeps_each_change_once([kept, ours, middle, lost])
    repeated = Segment("home", "home", "away", "away away")
    assert not keeps_each_change_once([kept, ours, middle, repeated])
    conflict = Segment("home", "house", "away", None)
    assert not keeps_each_change_once([kept, conflict])


def test_the_check_counts_a_shared_change_once_and_takes_no_side_of_a_clash() -> None:
    shared = Segment("old words", "new words", "new words", "new words")
    assert keeps_each_change_once([shared])
    assert not keeps_each_change_once([Segment("old", "new", "new", "new new")])
    # both sides changed it, differently: neither side's version keeps the other's change
    clash = Segment("one two three four", "one four", "one three four", "one four")
    assert not keeps_each_change_once([clash])
    # a merged text that is right as a whole but assembled from the wrong pieces
    swapped = [Segment("a ", "b ", "a ", "a "), Segment("c", "c", "c", "b")]
    assert "".join(s.merged or "" for s in swapped) == "a b"
    assert not keeps_each_change_once(swapped)


def test_a_change_is_split_around_the_part_the_other_side_made_too() -> None:
    base = ["S3", " ", "S4"]
    ours = Hunk(OURS, 0, 3, ("X3",))  # "S3 S4" became "X3"
    theirs = Hunk(THEIRS, 1, 3, ())  # " S4" deleted
    assert split_on(ours, theirs, base) == [Hunk(OURS, 0, 1, ("X3",)), Hunk(OURS, 1, 3, ())]
    # ...but not when the rest of the change puts back what the shared part removed
    resurrecting = Hunk(OURS, 0, 3, ("N", " ", "S3", " ", "X4"))
    assert split_on(resurrecting, Hunk(THEIRS, 0, 2, ()), base) is None
    # ...nor when the other side's edit is not at either end of this one
    assert split_on(ours, Hunk(THEIRS, 1, 2, ()), base) is None
