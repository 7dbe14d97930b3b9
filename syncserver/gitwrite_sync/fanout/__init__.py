"""Fanout: relaying "repository R is at sequence N" to every server instance.

`Fanout` is the interface (one per process); `MemoryFanout` serves the embedded default
and tests. Redis and Redis Cluster backends implement the same interface and pass the
same contract suite (``tests/integration/fanout``).
"""

from gitwrite_sync.fanout.base import Fanout, Listener, decode_notice, encode_notice
from gitwrite_sync.fanout.memory import MemoryBroker, MemoryFanout

__all__ = ["Fanout", "Listener", "MemoryBroker", "MemoryFanout", "decode_notice", "encode_notice"]
