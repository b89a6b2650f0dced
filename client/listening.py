"""What a play is: the context a track was played from and how the play ended, as playback reports it.

Plain records shared by playback (which reports plays), history (which keeps them) and the views (which name the
context); nothing here stores or sends one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from client.catalog import Track

ContextKind = Literal["album", "playlist", "search", "radio", "discover_weekly", "library", "queue", "other"]
CONTEXT_KINDS: tuple[str, ...] = get_args(ContextKind)


@dataclass(frozen=True, slots=True)
class PlayContext:
    """Where a play came from: an album (its id), a playlist (its id), search, radio (its seed track's id), ..."""

    kind: ContextKind
    id: str | None = None


OTHER = PlayContext("other")
QUEUE = PlayContext("queue")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayEnded:
    """A track stopped being heard: how far in the listener got, and whether it ran to its end or was skipped.

    A play that neither ran out nor was skipped (the app quit, playback stopped) has both flags false.
    """

    track: Track
    context: PlayContext
    started_at: datetime  # aware, UTC
    ms_played: int
    completed: bool
    skipped: bool
