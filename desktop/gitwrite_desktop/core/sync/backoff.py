"""How long to wait before connecting again: exponential backoff with full jitter.

After the n-th failure in a row the wait is a random time between 0 and
``min(cap, base * 2**n)`` ("full jitter", as AWS's architecture blog measured it): a
server that restarts is not met by every client at the same instant. A server's own
hint (`GoingAway.retry_ms`) is a floor, with jitter added above it so clients told the
same hint still spread out. A connection that stayed up for ``stable`` seconds resets
the count, so a long offline period (a laptop closed for a week) costs at most ``cap``
seconds between attempts, and one blip on a good connection is retried almost at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """The wait before each attempt to connect again.

    Attributes:
        base: Seconds of the first window.
        cap: The longest wait.
        stable: Seconds a connection must last for the next failure to count as the first.
        failures: Failures in a row so far.
    """

    base: float = 0.5
    cap: float = 60.0
    stable: float = 30.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def window(self) -> float:
        """The upper bound of the next wait."""
        return float(min(self.cap, self.base * 2 ** min(self.failures, 62)))

    def next_delay(self, hint: float | None = None) -> float:
        """The wait before the next attempt (counting one more failure).

        Args:
            hint: Seconds the server asked to wait, if it said; the wait is at least that
                (never more than ``cap`` above it).
        """
        window = self.window()
        self.failures += 1
        delay = self.rng.uniform(0, window)
        if hint is not None and hint > 0:
            delay = hint + self.rng.uniform(0, min(window, hint))
        return delay

    def connected_for(self, seconds: float) -> None:
        """Note how long the connection that just ended lasted."""
        if seconds >= self.stable:
            self.failures = 0

    def reset(self) -> None:
        self.failures = 0
