"""Follows the entry being heard and reports each play once when it ends: run out, skipped, or left at a stop.

A strategy, no Qt: the controller tells it what the engine and the user did; it never changes what plays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from client.listening import PlayContext, PlayEnded
from client.playback.queue import Entry
from player import Position

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class _Heard:
    entry: Entry
    context: PlayContext
    started_at: datetime


class PlayTracker:
    """The play in progress, if any. Each play ends exactly once: the first of ``ran_out`` and ``left`` wins."""

    def __init__(self, clock: Clock = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._heard: _Heard | None = None

    def started(self, entry: Entry, context: PlayContext) -> PlayEnded | None:
        """The engine started ``entry``; a play still open (the engine moved on without ending it) ends unfinished."""
        unfinished = self._end(0, completed=False, skipped=False)
        self._heard = _Heard(entry, context, self._clock())
        return unfinished

    def ran_out(self, key: str) -> PlayEnded | None:
        """The engine ended the item ``key``: when that is the play in progress, it ran to its end."""
        if self._heard is None or str(self._heard.entry.entry_id) != key:
            return None  # already ended when the user left it
        return self._end(round(self._heard.entry.track.duration_s * 1000), completed=True, skipped=False)

    def left(self, position: Position, skipped: bool) -> PlayEnded | None:
        """The user moved away (``skipped``) or playback stops (quit): the play ends where the listener is."""
        if self._heard is None:
            return None
        heard_ms = round(position.seconds * 1000) if position.key == str(self._heard.entry.entry_id) else 0
        return self._end(heard_ms, completed=False, skipped=skipped)

    def _end(self, ms_played: int, *, completed: bool, skipped: bool) -> PlayEnded | None:
        heard, self._heard = self._heard, None
        if heard is None:
            return None
        return PlayEnded(track=heard.entry.track, context=heard.context, started_at=heard.started_at,
                         ms_played=ms_played, completed=completed, skipped=skipped)
