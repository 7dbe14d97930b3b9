"""The sync wire protocol: typed messages shared by the client and the server.

One WebSocket per client carries binary frames; each frame is ONE message encoded with
MessagePack (packs travel as raw bytes inside it). Every message is a msgspec Struct
tagged by its ``type`` field. `encode` and `decode` are the only (de)serialisers either
side uses; `decode` raises `ProtocolError` for anything malformed.

Client → server: `Auth` (first, always), `Hello`, `Subscribe`, `Unsubscribe`, `ListRefs`,
`Push`, `Fetch`, `Ping`.
Server → client: `Welcome`, `Notice`, `ResyncRequired`, `Refs`, `PushResult`,
`FetchResult`, `Pong`, `Error`, `GoingAway`.

Requests that expect an answer carry a client-chosen ``id`` echoed in the answer. Object
ids are 40-character lowercase hex strings; ``ZERO_ID`` as an old id means "must not
exist yet" and as a new id means "delete". See docs/protocol.md for examples.
"""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec

PROTOCOL_VERSION = 1
ZERO_ID = "0" * 40

ObjectId = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{40}$")]
RefName = Annotated[str, msgspec.Meta(min_length=1, max_length=400)]
RepoName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
RequestId = Annotated[int, msgspec.Meta(ge=0)]


class ErrorCode(enum.StrEnum):
    """Stable error codes (never renamed; new ones may be added)."""

    MALFORMED = "malformed"  # not MessagePack, unknown type, wrong field types
    UNSUPPORTED_VERSION = "unsupported_version"
    UNAUTHENTICATED = "unauthenticated"  # no, bad, expired or revoked token
    FORBIDDEN = "forbidden"  # the role does not allow this
    NOT_FOUND = "not_found"  # no such repository (or not visible to this user)
    INVALID_REF = "invalid_ref"  # ref name not allowed
    INVALID_PACK = "invalid_pack"  # pack does not parse, ids don't match, bad objects
    MISSING_OBJECTS = "missing_objects"  # the new history is not complete
    NOT_FAST_FORWARD = "not_fast_forward"
    TOO_LARGE = "too_large"  # frame, pack or object count over the limits
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal"


class Auth(msgspec.Struct, tag="auth", frozen=True):
    token: str


class Hello(msgspec.Struct, tag="hello", frozen=True):
    """Sent after `Auth`. ``last_seq`` maps each followed repository to the last event
    sequence the client has seen; the server replays newer events as `Notice` messages."""

    version: int
    client: str = ""
    last_seq: dict[RepoName, int] = {}


class Subscribe(msgspec.Struct, tag="subscribe", frozen=True):
    repos: dict[RepoName, int]
    """Repository → last sequence seen (0 for none): replay starts after it."""


class Unsubscribe(msgspec.Struct, tag="unsubscribe", frozen=True):
    repos: list[RepoName]


class ListRefs(msgspec.Struct, tag="list_refs", frozen=True):
    id: RequestId
    repo: RepoName


class RefUpdate(msgspec.Struct, frozen=True):
    ref: RefName
    old: ObjectId
    new: ObjectId


class Push(msgspec.Struct, tag="push", frozen=True):
    """Move refs by compare-and-swap, with a pack of what the server lacks. All updates
    are applied together in one transaction, or none is."""

    id: RequestId
    repo: RepoName
    updates: list[RefUpdate]
    pack: bytes = b""
    force: bool = False


class Fetch(msgspec.Struct, tag="fetch", frozen=True):
    """``wants``: ref names or object ids (empty = every ref); ``haves``: commit ids the
    client already has. The answer's pack may be thin against the haves."""

    id: RequestId
    repo: RepoName
    wants: list[str] = []
    haves: list[ObjectId] = []


class Ping(msgspec.Struct, tag="ping", frozen=True):
    time: float = 0.0


class Welcome(msgspec.Struct, tag="welcome", frozen=True):
    version: int
    user: str
    heartbeat_seconds: int
    limits: dict[str, int] = {}


class Notice(msgspec.Struct, tag="notice", frozen=True):
    """Repository ``repo`` is now at event ``seq``: ``ref`` moved from ``old`` to ``new``."""

    repo: RepoName
    seq: int
    ref: str
    old: str
    new: str


class ResyncRequired(msgspec.Struct, tag="resync", frozen=True):
    """The client's last sequence is older than the retained log: compare heads instead."""

    repo: RepoName
    oldest_seq: int
    current_seq: int


class Refs(msgspec.Struct, tag="refs", frozen=True):
    id: RequestId
    repo: RepoName
    refs: dict[str, str]
    seq: int


class PushResult(msgspec.Struct, tag="push_result", frozen=True):
    """``ok``: applied at event ``seq``; ``stale``: a ref had moved (``refs`` holds the
    current ids); fetch, merge and push again."""

    id: RequestId
    status: str
    seq: int
    refs: dict[str, str] = {}


class FetchResult(msgspec.Struct, tag="fetch_result", frozen=True):
    id: RequestId
    refs: dict[str, str]
    seq: int
    pack: bytes = b""


class Pong(msgspec.Struct, tag="pong", frozen=True):
    time: float = 0.0


class Error(msgspec.Struct, tag="error", frozen=True):
    code: str
    message: str
    id: RequestId | None = None
    details: dict[str, str] = {}


class GoingAway(msgspec.Struct, tag="going_away", frozen=True):
    """The server is shutting down: reconnect (to any instance) after ``retry_ms``."""

    retry_ms: int


ClientMessage = Auth | Hello | Subscribe | Unsubscribe | ListRefs | Push | Fetch | Ping
ServerMessage = (
    Welcome | Notice | ResyncRequired | Refs | PushResult | FetchResult | Pong | Error | GoingAway
)
Message = ClientMessage | ServerMessage


class ProtocolError(Exception):
    """A frame that is not a valid message; ``code`` is an `ErrorCode`."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


_encoder = msgspec.msgpack.Encoder()
_client_decoder = msgspec.msgpack.Decoder(ClientMessage)
_server_decoder = msgspec.msgpack.Decoder(ServerMessage)


def encode(message: Message) -> bytes:
    return _encoder.encode(message)


def _decode(decoder: msgspec.msgpack.Decoder[object], frame: bytes) -> object:
    if not isinstance(frame, bytes | bytearray | memoryview):
        raise ProtocolError(ErrorCode.MALFORMED, "frames must be binary MessagePack")
    try:
        return decoder.decode(frame)
    except msgspec.ValidationError as exc:
        raise ProtocolError(ErrorCode.MALFORMED, f"invalid message: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ProtocolError(ErrorCode.MALFORMED, f"not a MessagePack message: {exc}") from exc
    except UnicodeDecodeError as exc:  # a string that is not UTF-8 (msgspec lets it through)
        raise ProtocolError(ErrorCode.MALFORMED, f"a string is not valid UTF-8: {exc}") from exc


def decode_client(frame: bytes) -> ClientMessage:
    """A message from a client (what the server reads)."""
    return _decode(_client_decoder, frame)  # type: ignore[return-value]


def decode_server(frame: bytes) -> ServerMessage:
    """A message from the server (what the client reads)."""
    return _decode(_server_decoder, frame)  # type: ignore[return-value]
