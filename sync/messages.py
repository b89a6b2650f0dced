"""The sync messages between a client and the server: JSON objects with update bytes in base64.

Parsing validates shape and types and raises ``MalformedMessage``; the bytes themselves are checked by PlaylistDoc.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sync.errors import SyncError

MAX_UPDATES_PER_PUSH = 1_000
_MAX_UPDATE_ID_CHARS = 64

PUSH_REQUEST_SCHEMA: dict[str, Any] = {
    "title": "PushRequest",
    "description": "Updates of one playlist, in the order they were made; stored all or none.",
    "type": "object",
    "required": ["updates"],
    "properties": {"updates": {"type": "array", "minItems": 1, "maxItems": MAX_UPDATES_PER_PUSH, "items": {
        "type": "object",
        "required": ["update_id", "data"],
        "properties": {
            "update_id": {"type": "string", "minLength": 1, "maxLength": _MAX_UPDATE_ID_CHARS,
                          "description": "chosen by the client; a retried update id gets its first seq back"},
            "data": {"type": "string", "format": "byte", "description": "the CRDT update bytes, base64"},
        },
    }}},
}
"""The JSON Schema of what ``PushRequest.from_json`` accepts (for API documentation)."""


class MalformedMessage(SyncError, ValueError):
    """A sync message is not of the expected shape (missing field, wrong type, bad base64)."""


@dataclass(frozen=True)
class OutgoingUpdate:
    """One local update as pushed: ``update_id`` makes a retried push harmless."""

    update_id: str
    data: bytes

    def to_json(self) -> dict[str, Any]:
        return {"update_id": self.update_id, "data": _b64(self.data)}

    @classmethod
    def from_json(cls, value: object) -> OutgoingUpdate:
        fields = _object(value, "update")
        return cls(_update_id(fields.get("update_id")), _bytes(fields.get("data"), "data"))


@dataclass(frozen=True)
class LoggedUpdate:
    """An update as the server's log holds it: numbered by ``seq`` within its playlist."""

    seq: int
    update_id: str
    data: bytes

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "update_id": self.update_id, "data": _b64(self.data)}

    @classmethod
    def from_json(cls, value: object) -> LoggedUpdate:
        fields = _object(value, "logged update")
        return cls(_seq(fields.get("seq"), "seq"), _update_id(fields.get("update_id")),
                   _bytes(fields.get("data"), "data"))


@dataclass(frozen=True)
class PushRequest:
    """Updates of one playlist, in the order they were made; the server stores all of them or none."""

    updates: tuple[OutgoingUpdate, ...]

    def to_json(self) -> dict[str, Any]:
        return {"updates": [update.to_json() for update in self.updates]}

    @classmethod
    def from_json(cls, value: object) -> PushRequest:
        items = _object(value, "push").get("updates")
        if not isinstance(items, list) or not 0 < len(items) <= MAX_UPDATES_PER_PUSH:
            raise MalformedMessage(f"'updates' must be a list of 1-{MAX_UPDATES_PER_PUSH} updates")
        return cls(tuple(OutgoingUpdate.from_json(item) for item in items))


@dataclass(frozen=True)
class PushResult:
    """The sequence number each pushed update has in the log (the earlier one when it was a retry)."""

    seqs: tuple[int, ...]
    last_seq: int

    def to_json(self) -> dict[str, Any]:
        return {"seqs": list(self.seqs), "last_seq": self.last_seq}

    @classmethod
    def from_json(cls, value: object) -> PushResult:
        fields = _object(value, "push result")
        seqs = fields.get("seqs")
        if not isinstance(seqs, list):
            raise MalformedMessage("'seqs' must be a list of sequence numbers")
        return cls(tuple(_seq(seq, "seqs") for seq in seqs), _seq(fields.get("last_seq"), "last_seq"))


@dataclass(frozen=True)
class PullResult:
    """What a replica that has seen the log up to ``since`` lacks.

    ``snapshot`` (covering the log up to ``snapshot_seq``) is present when the server compacted past ``since``;
    ``updates`` are the log entries after ``max(since, snapshot_seq)``; ``last_seq`` is where the log ends.
    """

    snapshot: bytes | None
    snapshot_seq: int
    updates: tuple[LoggedUpdate, ...]
    last_seq: int

    def to_json(self) -> dict[str, Any]:
        return {"snapshot": None if self.snapshot is None else _b64(self.snapshot),
                "snapshot_seq": self.snapshot_seq, "updates": [update.to_json() for update in self.updates],
                "last_seq": self.last_seq}

    @classmethod
    def from_json(cls, value: object) -> PullResult:
        fields = _object(value, "pull result")
        snapshot = fields.get("snapshot")
        items = fields.get("updates")
        if not isinstance(items, list):
            raise MalformedMessage("'updates' must be a list")
        return cls(None if snapshot is None else _bytes(snapshot, "snapshot"),
                   _seq(fields.get("snapshot_seq"), "snapshot_seq"),
                   tuple(LoggedUpdate.from_json(item) for item in items), _seq(fields.get("last_seq"), "last_seq"))

    def blobs(self) -> list[bytes]:
        """Everything to import, in order."""
        head = [] if self.snapshot is None else [self.snapshot]
        return head + [update.data for update in self.updates]


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedMessage(f"a {what} must be a JSON object")
    return value


def _update_id(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_UPDATE_ID_CHARS:
        raise MalformedMessage(f"'update_id' must be text of 1-{_MAX_UPDATE_ID_CHARS} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedMessage("'update_id' must be valid Unicode text; it holds a lone surrogate") from None
    return value


def _seq(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedMessage(f"'{field}' must be a non-negative integer")
    return value


def _bytes(value: object, field: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedMessage(f"'{field}' must be base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedMessage(f"'{field}' is not valid base64") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
