"""The playlist CRDT's exceptions, each saying what was wrong and what to do about it.

    SyncError
    ├── InvalidUpdate           a remote update was refused; the document is unchanged
    │   ├── OversizedUpdate     larger than the limit for one update
    │   ├── MalformedUpdate     does not decode as a Loro update (corrupt, truncated, not an update)
    │   │   └── DecoderFault    made loro itself fail (panic); the process that saw it must not trust loro again
    │   ├── ForeignUpdate       written for another playlist (its history does not start at this one's genesis)
    │   ├── MissingDependencies depends on edits this replica has not seen; pull earlier updates first
    │   ├── InvalidState        decodes, but the playlist it would produce breaks an invariant
    │   └── PlaylistTooLarge    the playlist it would produce holds too many entries or bytes
    ├── EntryNotFound           a local edit named an entry id the playlist does not hold
    └── InvalidEdit             a local edit with an out-of-range index or a bad value
"""

from __future__ import annotations


class SyncError(Exception):
    """Base of every error the playlist CRDT raises on purpose."""


class InvalidUpdate(SyncError):
    """A remote update was refused; the document it was offered to is unchanged."""

    code = "invalid_update"


class OversizedUpdate(InvalidUpdate):
    code = "update_too_large"


class MalformedUpdate(InvalidUpdate):
    code = "malformed_update"


class DecoderFault(MalformedUpdate):
    """Loro panicked on the update: a panic may poison state shared by every doc of the process."""

    code = "decoder_fault"


class ForeignUpdate(InvalidUpdate):
    code = "foreign_update"


class MissingDependencies(InvalidUpdate):
    code = "missing_dependencies"


class InvalidState(InvalidUpdate):
    code = "invalid_state"


class PlaylistTooLarge(InvalidUpdate):
    code = "playlist_too_large"


class EntryNotFound(SyncError, KeyError):
    """No entry with this id is in the playlist (it may have been removed by another replica)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "entry not found"


class InvalidEdit(SyncError, ValueError):
    """A local edit was refused before it touched the document (index out of range, name too long...)."""
