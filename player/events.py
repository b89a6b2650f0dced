"""The engine's plain records: what to play, where playback is, and the events it reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from player.source import Source

State = Literal["stopped", "playing", "paused"]


@dataclass(frozen=True)
class QueueItem:
    """One track to play. `frames` comes from the server's manifest; the loudness figures are the ones its gain
    is computed from (the track's, or its album's when the album plays as a whole: decided as the queue is built).
    `joins_previous`: it continues the item before it (the next track of an album played in order, or the same
    track repeated), so it follows gapless and is never crossfaded."""

    key: str
    open_source: Callable[[], Source]
    frames: int | None = None
    loudness_lufs: float | None = None
    peak_dbfs: float | None = None
    # Whether every byte of the item is on this device (downloaded or fully cached); None: unknown.
    # While the network is gone the engine skips items that say False instead of stalling on each.
    playable_offline: Callable[[], bool] | None = None
    joins_previous: bool = False


@dataclass(frozen=True)
class Position:
    """Where the listener is: `frames` into queue item `index`, counted at `sample_rate`."""

    index: int
    key: str
    frames: int
    sample_rate: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True)
class TrackStarted:
    index: int
    key: str


@dataclass(frozen=True)
class TrackEnded:
    index: int
    key: str


@dataclass(frozen=True)
class QueueFinished:
    pass


@dataclass(frozen=True)
class StateChanged:
    state: State


@dataclass(frozen=True)
class Reconnecting:
    """Item `index`'s bytes stopped arriving; the engine retries for up to `limit_s` while what is
    buffered plays, then goes on with the next playable item."""

    index: int
    key: str
    reason: str
    limit_s: float


@dataclass(frozen=True)
class Reconnected:
    """Item `index`'s bytes arrive again after `waited_s`: it continues from the frame it stalled at."""

    index: int
    key: str
    waited_s: float


@dataclass(frozen=True)
class PlaybackError:
    """Item `index` could not be played (index -1: the output device failed)."""

    index: int
    key: str
    message: str


Event = TrackStarted | TrackEnded | QueueFinished | StateChanged | PlaybackError | Reconnecting | Reconnected
Listener = Callable[[Event], None]
