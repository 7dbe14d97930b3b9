"""Timings of the prose diff and merge on real novels (medians, in milliseconds).

Run with ``.venv/bin/python -m tests.bench.prose``. Targets from the design: comparing War
and Peace with a copy that has one paragraph rewritten under 300 ms (aim ~50 ms), the word
statistics of the same under 20 ms. Not a test: timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import time
from collections.abc import Callable

from gitwrite.prose import compare_text, merge_text, split_paragraphs, split_sentences, word_stats
from tests.corpus import novel

CLOCK = time.perf_counter


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = CLOCK()
        fn()
        samples.append(CLOCK() - start)
    return statistics.median(samples) * 1000


def rewrite(paragraph: str) -> str:
    """The paragraph's sentences in reverse order, a word changed and a sentence added."""
    body = paragraph.rstrip("\n")
    sentences = [s.strip() for s in split_sentences(body)]
    words = " ".join(reversed(sentences)).split(" ")
    words[len(words) // 2] = "suddenly"
    return " ".join(words) + " And then it rained." + paragraph[len(body) :]


def long_paragraph_index(paragraphs: list[str], near: float) -> int:
    """The first paragraph of several sentences at or after the fraction ``near`` of the text."""
    index = int(len(paragraphs) * near)
    while len(split_sentences(paragraphs[index])) < 3:
        index += 1
    return index


def small_edit(paragraph: str, rng: random.Random) -> str:
    """A word replaced, a sentence added or a sentence removed, as in one save."""
    sentences = split_sentences(paragraph)
    choice = rng.randrange(3)
    if choice == 0 or len(sentences) < 2:
        words = paragraph.split(" ")
        words[rng.randrange(len(words))] = "indeed"
        return " ".join(words)
    index = rng.randrange(len(sentences) - 1)
    if choice == 1:
        sentences.insert(index + 1, "Nobody said a word. ")
    else:
        del sentences[index]
    return "".join(sentences)


def edited(text: str, count: int, seed: int, *, heavy: bool) -> str:
    """The text with ``count`` paragraphs chosen at random rewritten (``heavy``: sentences
    reversed) or given a small edit."""
    paragraphs = split_paragraphs(text)
    rng = random.Random(seed)
    for index in rng.sample(range(len(paragraphs)), count):
        if heavy and len(split_sentences(paragraphs[index])) > 1:
            paragraphs[index] = rewrite(paragraphs[index])
        elif not heavy:
            paragraphs[index] = small_edit(paragraphs[index], rng)
    return "".join(paragraphs)


def run(repeat: int) -> dict[str, float]:
    results: dict[str, float] = {}
    war = novel("war_and_peace")
    paragraphs = split_paragraphs(war)
    index = long_paragraph_index(paragraphs, 0.5)
    one = "".join([*paragraphs[:index], rewrite(paragraphs[index]), *paragraphs[index + 1 :]])
    results["War and Peace, one paragraph rewritten: compare_text"] = median_ms(
        lambda: compare_text(war, one), repeat
    )
    results["War and Peace, one paragraph rewritten: word_stats"] = median_ms(
        lambda: word_stats(war, one), repeat
    )

    inserted = war[: len(war) // 2] + "An inserted word " + war[len(war) // 2 :]
    results["War and Peace, three words inserted: compare_text"] = median_ms(
        lambda: compare_text(war, inserted), repeat
    )
    results["War and Peace, three words inserted: word_stats"] = median_ms(
        lambda: word_stats(war, inserted), repeat
    )

    pride = novel("pride_and_prejudice")
    sentence = "It is a truth universally acknowledged"
    saved = pride.replace(sentence, "It is a truth almost universally acknowledged", 1)
    results["Pride and Prejudice, one word inserted: compare_text"] = median_ms(
        lambda: compare_text(pride, saved), repeat
    )
    results["Pride and Prejudice, one word inserted: word_stats"] = median_ms(
        lambda: word_stats(pride, saved), repeat
    )
    for heavy, label in ((False, "given a small edit"), (True, "rewritten")):
        far = edited(pride, 200, seed=1, heavy=heavy)
        results[f"Pride and Prejudice, 200 paragraphs {label}: compare_text"] = median_ms(
            functools.partial(compare_text, pride, far), max(1, repeat // 4)
        )
        results[f"Pride and Prejudice, 200 paragraphs {label}: word_stats"] = median_ms(
            functools.partial(word_stats, pride, far), max(1, repeat // 4)
        )
    ours, theirs = (edited(pride, 100, seed=seed, heavy=False) for seed in (2, 3))
    results["Pride and Prejudice, merge of 100 small edits a side"] = median_ms(
        lambda: merge_text(pride, ours, theirs), max(1, repeat // 4)
    )

    other = long_paragraph_index(paragraphs, 0.7)
    ours = one
    theirs = "".join([*paragraphs[:other], rewrite(paragraphs[other]), *paragraphs[other + 1 :]])
    results["War and Peace, merge of edits to two paragraphs"] = median_ms(
        lambda: merge_text(war, ours, theirs), repeat
    )
    sentences = split_sentences(paragraphs[index])
    first = "".join(["Rewritten first sentence. ", *sentences[1:]])
    last = "".join([*sentences[:-1], "A rewritten last sentence.\n\n"])
    ours = "".join([*paragraphs[:index], first, *paragraphs[index + 1 :]])
    theirs = "".join([*paragraphs[:index], last, *paragraphs[index + 1 :]])
    results["War and Peace, merge of edits to two sentences of one paragraph"] = median_ms(
        lambda: merge_text(war, ours, theirs), repeat
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=21, help="runs per figure (median)")
    parser.add_argument(
        "--cpu", action="store_true", help="time CPU used by this process, not the wall clock"
    )
    args = parser.parse_args()
    global CLOCK
    if args.cpu:  # steadier on a busy machine: time spent waiting for a CPU is left out
        CLOCK = time.process_time
    for name, ms in run(args.repeat).items():
        print(f"{ms:9.1f} ms  {name}")


if __name__ == "__main__":
    main()
