"""The offline part's plain records: what is pinned, each download's state and progress, licences, playability."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from cache import FileKey

Clock = Callable[[], float]
"""Seconds as a float; Unix time where licences are concerned, so tests can move it."""

ItemState = Literal["queued", "downloading", "waiting", "paused", "done", "failed"]
PinKind = Literal["album", "playlist", "liked", "artist"]  # "liked": the Liked Songs; "artist": its released albums
PinState = Literal["queued", "downloading", "paused", "done", "error"]


@dataclass(frozen=True)
class TrackRef:
    """A track to download, with the title shown while it downloads."""

    track_id: int
    title: str


@dataclass(frozen=True)
class PinKey:
    """Which album, playlist or artist (or the Liked Songs) is pinned."""

    kind: PinKind
    ident: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.ident}"

    @classmethod
    def parse(cls, text: str) -> PinKey:
        kind, _, ident = text.partition(":")
        known = next((name for name in get_args(PinKind) if name == kind), None)
        if known is None or not ident:
            raise ValueError(f"{text!r} is not a pin key like 'album:12', 'artist:3', 'playlist:<id>' or 'liked:songs'")
        return cls(known, ident)


@dataclass(frozen=True)
class Progress:
    """Bytes done of bytes known, the recent rate and the time left at that rate (None when not moving)."""

    bytes_done: int
    bytes_total: int
    rate_bps: float
    eta_s: float | None

    @property
    def percent(self) -> float:
        return 100.0 * self.bytes_done / self.bytes_total if self.bytes_total else 0.0


@dataclass(frozen=True)
class ItemStatus:
    """One track in the download queue. ``error`` is a message for the user when ``state`` is failed/waiting."""

    track_id: int
    title: str
    state: ItemState
    progress: Progress
    error: str | None


@dataclass(frozen=True)
class PinStatus:
    """An album or playlist download: ``done`` of ``total`` tracks, and its overall state."""

    key: PinKey
    title: str
    state: PinState
    done: int
    total: int
    error: str | None

    @property
    def label(self) -> str:
        """What the Download toggle shows: queued / n of m / done / error."""
        if self.state == "error":
            return "error"
        if self.state == "done":
            return "done"
        if self.state == "queued" and self.done == 0:
            return "queued"
        return f"{self.done} of {self.total}"


@dataclass(frozen=True)
class DownloadsSnapshot:
    """Everything the Downloads view shows at one instant."""

    items: tuple[ItemStatus, ...]
    pins: tuple[PinStatus, ...]
    total: Progress
    paused: bool


@dataclass(frozen=True)
class OfflineLicence:
    """A file key the server granted for offline play, valid for ``valid_s`` from when it was received."""

    key: FileKey
    valid_s: float


@dataclass(frozen=True)
class Playability:
    """Whether a track can play now, and if not, why in words for the user."""

    playable: bool
    reason: str
