"""Legato's playlist CRDT and sync messages: pure logic, no I/O."""

from sync.errors import (
    EntryNotFound,
    ForeignUpdate,
    InvalidEdit,
    InvalidState,
    InvalidUpdate,
    MalformedUpdate,
    MissingDependencies,
    OversizedUpdate,
    SyncError,
)
from sync.messages import (
    MAX_UPDATES_PER_PUSH,
    PUSH_REQUEST_SCHEMA,
    LoggedUpdate,
    MalformedMessage,
    OutgoingUpdate,
    PullResult,
    PushRequest,
    PushResult,
)
from sync.playlist_doc import (
    MAX_SNAPSHOT_BYTES,
    MAX_UPDATE_BYTES,
    Entry,
    PlaylistDoc,
    PlaylistState,
    genesis_peer,
)

__all__ = [
    "MAX_SNAPSHOT_BYTES", "MAX_UPDATES_PER_PUSH", "MAX_UPDATE_BYTES", "Entry", "EntryNotFound", "ForeignUpdate",
    "InvalidEdit", "InvalidState", "InvalidUpdate", "LoggedUpdate", "MalformedMessage", "MalformedUpdate",
    "MissingDependencies", "OutgoingUpdate", "OversizedUpdate", "PUSH_REQUEST_SCHEMA", "PlaylistDoc", "PlaylistState",
    "PullResult", "PushRequest", "PushResult", "SyncError", "genesis_peer",
]
