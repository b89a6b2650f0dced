"""How consecutive queue items meet: whether one continues the album of the one before it in order (joined
gapless, never crossfaded), and which loudness each is normalised by (Auto, Track, Album), decided once per item
as the engine's queue is built, so a join never steps. No Qt and no settings reads."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from client.catalog import Track
from client.playback.queue import Entry

GainMode = Literal["auto", "track", "album"]
GAIN_MODES: tuple[GainMode, ...] = get_args(GainMode)


class BadManifest(ValueError):
    """The server's track manifest holds a loudness figure that is not a number."""


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness and true peak (None: not measured)."""

    lufs: float | None
    peak_dbfs: float | None


UNKNOWN = Loudness(None, None)


@dataclass(frozen=True)
class Planned:
    """What one engine item plays with: the figures its gain is computed from, and whether it joins the one before."""

    loudness: Loudness
    joins_previous: bool


def album_loudness(manifest: Mapping[str, Any]) -> Loudness:
    """The album figures of a track manifest (``album_loudness_lufs``, ``album_peak_dbfs``; null when unknown)."""
    return Loudness(_figure(manifest, "album_loudness_lufs"), _figure(manifest, "album_peak_dbfs"))


def in_album_order(before: Track, after: Track) -> bool:
    """``after`` is the track right after ``before`` on their album: the next number, or the next disc's first
    (a track record does not say how many tracks its disc has, so any track of a disc counts as its last)."""
    if before.album_id != after.album_id:
        return False
    if after.disc_no == before.disc_no:
        return after.track_no == before.track_no + 1
    return after.disc_no == before.disc_no + 1 and after.track_no == 1


def plan(entries: Sequence[Entry], albums: Mapping[int, Loudness], mode: GainMode, shuffled: bool,
         before: tuple[Entry, Planned] | None = None) -> list[Planned]:
    """Each entry's plan, in play order; ``before`` is the entry the engine plays just ahead of them, as planned.

    An entry joins the one before when it is the same entry again (repeat one) or, unshuffled, the next track
    of the same album. Track: always the track's own figures. Album: the album's whenever they are known
    (``albums`` by track id). Auto: an entry that joins the one before keeps its gain, so a whole album in
    order plays at one gain; one that does not takes the album's figures when the next entry joins it and the
    album is measured, else its own.
    """
    planned: list[Planned] = []
    previous = before
    for index, entry in enumerate(entries):
        joins = previous is not None and _joins(previous[0], entry, shuffled)
        following = entries[index + 1] if index + 1 < len(entries) else None
        own = Loudness(entry.track.loudness_lufs, entry.track.peak_dbfs)
        album = albums.get(entry.track.id, UNKNOWN)
        if mode == "track":
            loudness = own
        elif mode == "album":
            loudness = album if album.lufs is not None else own
        elif joins and previous is not None:
            loudness = previous[1].loudness
        elif following is not None and album.lufs is not None and _in_order(entry, following, shuffled):
            loudness = album
        else:
            loudness = own
        item = Planned(loudness, joins)
        planned.append(item)
        previous = (entry, item)
    return planned


def _joins(before: Entry, after: Entry, shuffled: bool) -> bool:
    return before.entry_id == after.entry_id or _in_order(before, after, shuffled)


def _in_order(before: Entry, after: Entry, shuffled: bool) -> bool:
    return not shuffled and in_album_order(before.track, after.track)


def _figure(manifest: Mapping[str, Any], name: str) -> float | None:
    value = manifest.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadManifest(f"the server's manifest gives {name} as {value!r}, not a number; "
                          "the server needs its album loudness measured again")
    return float(value)
