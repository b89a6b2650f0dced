"""Legato's playlist CRDT and sync messages: pure logic, no I/O."""

from sync.errors import (
    DecoderFault,
    EntryNotFound,
    ForeignUpdate,
    InvalidEdit,
    InvalidState,
    InvalidUpdate,
    MalformedUpdate,
    MissingDependencies,
    OversizedUpdate,
    PlaylistTooLarge,
    SyncError,
)
from sync.loro_boundary import genesis_peer
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
    MAX_STORED_SNAPSHOT_BYTES,
    MAX_UPDATE_BYTES,
    Entry,
    MergedPush,
    PlaylistDoc,
    PlaylistState,
)
from sync.playlist_shape import MAX_ENTRIES

__all__ = [
    "MAX_ENTRIES", "MAX_SNAPSHOT_BYTES", "MAX_STORED_SNAPSHOT_BYTES", "MAX_UPDATES_PER_PUSH", "MAX_UPDATE_BYTES",
    "PUSH_REQUEST_SCHEMA", "DecoderFault", "Entry", "EntryNotFound", "ForeignUpdate", "InvalidEdit", "InvalidState",
    "InvalidUpdate", "LoggedUpdate", "MalformedMessage", "MalformedUpdate", "MergedPush", "MissingDependencies",
    "OutgoingUpdate", "OversizedUpdate", "PlaylistDoc", "PlaylistState", "PlaylistTooLarge", "PullResult",
    "PushRequest", "PushResult", "SyncError", "genesis_peer",
]
