"""gitwrite.protocol: anything that is not a valid message is a ProtocolError, never
another exception."""

from __future__ import annotations

import msgspec
import pytest

from gitwrite.protocol import (
    ZERO_ID,
    ErrorCode,
    ListRefs,
    ProtocolError,
    Push,
    RefUpdate,
    decode_client,
    decode_server,
    encode,
)


def push_frame(ref: str = "refs/heads/main") -> bytes:
    return encode(Push(id=1, repo="novel", updates=[RefUpdate(ref, ZERO_ID, "a" * 40)]))


def test_a_message_round_trips() -> None:
    assert decode_client(encode(ListRefs(id=3, repo="novel"))) == ListRefs(id=3, repo="novel")
    assert decode_client(push_frame()).updates[0].ref == "refs/heads/main"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "frame",
    [
        b"\xc1",  # never valid MessagePack
        b"",
        msgspec.msgpack.encode({"type": "explode"}),
        msgspec.msgpack.encode({"type": "list_refs", "id": "x", "repo": 5}),
        msgspec.msgpack.encode({"type": "list_refs", "id": -1, "repo": "r"}),
        push_frame().replace(b"a" * 40, b"z" * 40),  # not an object id
        push_frame("refs/heads/PLACEHOLDER").replace(b"PLACEHOLDER", b"\xff\xfe\xfd" * 3 + b"xx"),
    ],
    ids=["not-msgpack", "empty", "unknown-type", "wrong-types", "negative-id", "bad-id", "utf8"],
)
def test_bad_frames_are_malformed(frame: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_client(frame)
    assert info.value.code is ErrorCode.MALFORMED
    with pytest.raises(ProtocolError):
        decode_server(frame)


def test_a_text_frame_is_malformed() -> None:
    with pytest.raises(ProtocolError) as info:
        decode_client("hello")  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.MALFORMED
