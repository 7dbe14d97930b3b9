"""A desktop core that saves in a loop until it is killed (for the crash-recovery test).

``python -m tests.unit.desktop.crashing_writer DATA_DIR PROJECT_ID`` opens the project
through the operations, then writes a chapter and saves, over and over, printing
``saved N`` after each save so the test can kill it mid-way with SIGKILL.
"""

from __future__ import annotations

import itertools
import os
import sys

from gitwrite_desktop.core import operations as ops
from gitwrite_desktop.core.desktop import Desktop
from tests.corpus import chapters


def main(data_dir: str, project_id: str) -> None:
    core = Desktop(data_dir, grace=0.05)
    assert core.start().wait(60)
    core.call(ops.OpenProject(project_id))
    texts = chapters()
    for n in itertools.count(1):
        name, text = texts[n % len(texts)]
        core.call(ops.WriteFiles(project_id, {name: f"{text}\n\nEdit {n} by {os.getpid()}.\n"}))
        core.call(ops.Save(project_id, f"Save {n}"))
        print(f"saved {n}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
