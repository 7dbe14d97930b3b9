"""Saying where a sync that takes too long is waiting (for the log and diagnostics).

A round one of whose steps waits `EngineOptions.stall_timeout` is given up; before that,
the chain of ``await`` it is suspended in is written down (each coroutine's function and
line, down to the future at the bottom), with what the writer thread is running at that
moment, since most of a round waits for one or the other.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import traceback
from typing import Any

DEPTH = 8
"""Innermost frames of the writer thread shown."""


def awaiting(task: asyncio.Task[Any]) -> str:
    """``function (file:line) → ... → <the awaited future>`` for a suspended task."""
    steps: list[str] = []
    current: Any = task.get_coro()
    while current is not None:
        frame = getattr(current, "cr_frame", None) or getattr(current, "gi_frame", None)
        if frame is None:
            steps.append(
                _short(repr(current)) if isinstance(current, asyncio.Future) else "a future"
            )
            break
        code = frame.f_code
        steps.append(f"{code.co_name} ({_file(code.co_filename)}:{frame.f_lineno})")
        current = getattr(current, "cr_await", None) or getattr(current, "gi_yieldfrom", None)
    return " → ".join(steps) or "nothing (the round had ended)"


def running(thread: threading.Thread) -> str:
    """What the worker ``thread`` is running (its innermost frames under `Worker`'s job
    loop), or "idle" when it waits for work."""
    frame = sys._current_frames().get(thread.ident or -1)
    if frame is None:
        return "not running"
    stack = traceback.extract_stack(frame)
    jobs = [i for i, s in enumerate(stack) if s.name == "_run" and s.filename.endswith("worker.py")]
    if not jobs:
        return "idle"
    inner = stack[jobs[-1] + 1 :][-DEPTH:]
    return " → ".join(f"{s.name} ({_file(s.filename)}:{s.lineno})" for s in inner)


def _file(path: str) -> str:
    parts = path.replace("\\", "/").split("/")
    return "/".join(parts[-2:]) if "gitwrite" in path else parts[-1]


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:197] + "..."
