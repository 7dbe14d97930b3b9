"""Build a writer's save history quickly, straight into a repository's object store.

Every save rewrites a few words of one paragraph of one chapter of Pride and Prejudice and
commits the whole project, as GitWrite does; objects are written loose, as dulwich writes them.
"""

from __future__ import annotations

import random
from pathlib import Path

from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from tests.corpus import chapters

_IDENTITY = b"Test Writer <writer@example.com>"
_START = 1_700_000_000


def _tree_of(blobs: dict[str, ObjectID], folder: str, repo: Repo) -> ObjectID:
    """Write the tree(s) for ``blobs`` (name to blob id, in ``folder`` or at the root)."""
    inner = Tree()
    for name, blob_id in blobs.items():
        inner.add(name.encode(), 0o100644, blob_id)
    repo.object_store.add_object(inner)
    if not folder:
        return inner.id
    root = Tree()
    root.add(folder.encode(), 0o040000, inner.id)
    repo.object_store.add_object(root)
    return root.id


def _blob(repo: Repo, text: str) -> ObjectID:
    blob = Blob.from_string(text.encode())
    repo.object_store.add_object(blob)
    return blob.id


def _commit(
    repo: Repo, tree: ObjectID, parents: list[ObjectID], when: int, message: str
) -> ObjectID:
    commit = Commit()
    commit.tree = tree
    commit.parents = parents
    commit.author = commit.committer = _IDENTITY
    commit.author_time = commit.commit_time = when
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = message.encode()
    repo.object_store.add_object(commit)
    return commit.id


def edit_paragraph(text: str, rng: random.Random, words: int = 3) -> str:
    """Rewrite ``words`` words of one randomly chosen paragraph of ``text``."""
    paragraphs = text.split("\n\n")
    candidates = [i for i, p in enumerate(paragraphs) if len(p.split(" ")) > 4]
    index = rng.choice(candidates)
    tokens = paragraphs[index].split(" ")
    vocabulary = text.split()
    for _ in range(words):
        tokens[rng.randrange(len(tokens))] = rng.choice(vocabulary)
    paragraphs[index] = " ".join(tokens)
    return "\n\n".join(paragraphs)


def build_history(
    path: Path,
    saves: int,
    *,
    chapter_count: int = 61,
    folder: str = "",
    branch: str = "refs/heads/main",
    seed: int = 1,
    texts: dict[str, str] | None = None,
) -> Repo:
    """Create a repository at ``path`` with a first commit of the chapters, then ``saves`` saves.

    Args:
        path: Folder to create the repository in (created if missing).
        saves: Number of one-paragraph saves after the first commit.
        chapter_count: How many chapters of Pride and Prejudice the project holds.
        folder: Put the chapters in this sub-folder instead of the root.
        branch: The branch the saves go to; HEAD points at it.
        seed: Seed of the edits, so a history can be rebuilt identically.
        texts: The project's files (name to text) instead of the chapters.

    Returns:
        The open repository (the caller closes it).
    """
    path.mkdir(parents=True, exist_ok=True)
    repo = Repo.init(str(path))
    ref = Ref(branch.encode())
    repo.refs.set_symbolic_ref(Ref(b"HEAD"), ref)
    rng = random.Random(seed)
    if texts is None:
        texts = {name: text for name, text in chapters()[:chapter_count]}
    texts = dict(texts)
    blobs = {name: _blob(repo, text) for name, text in texts.items()}
    head = _commit(repo, _tree_of(blobs, folder, repo), [], _START, "First draft")
    names = sorted(texts)
    for i in range(saves):
        name = rng.choice(names)
        texts[name] = edit_paragraph(texts[name], rng)
        blobs[name] = _blob(repo, texts[name])
        head = _commit(
            repo,
            _tree_of(blobs, folder, repo),
            [head],
            _START + 60 * (i + 1),
            f"Save {i + 1}: {name}",
        )
    repo.refs[ref] = head
    return repo
