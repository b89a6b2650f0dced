"""Synthesised demo music for the bundled catalog: a gapless live set first, then studio albums.

Pure, vectorised numpy (no per-sample Python loops), deterministic per seed; it never touches disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from server.synth.arrangement import (
    LIVE_STYLE,
    STUDIO_STYLES,
    Style,
    live_set,
    studio_track,
    track_lengths,
)
from server.synth.voices import SAMPLE_RATE, Audio

__all__ = ["MIN_SECONDS_PER_TRACK", "SAMPLE_RATE", "DemoAlbum", "DemoTrack", "demo_albums"]

MIN_SECONDS_PER_TRACK = 1.0
_NAMES_STREAM = 2**31 - 1  # an rng stream no album index can reach


@dataclass(frozen=True)
class DemoTrack:
    """One rendered track; ``pcm`` is read-only float32 of shape (frames, 2) in [-1, 1]."""

    title: str
    track_no: int
    disc_no: int
    pcm: Audio


@dataclass(frozen=True)
class DemoAlbum:
    """An album with its metadata; ``gapless`` albums are one performance cut into tracks."""

    title: str
    artist: str
    year: int
    genre: str
    gapless: bool
    sample_rate: int
    tracks: tuple[DemoTrack, ...]

# ---------------------------------------------------------------- metadata and the catalog

@dataclass(frozen=True)
class _Design:
    title: str
    artist: str
    year: int
    style: Style
    track_titles: tuple[str, ...]


_LIVE_DESIGN = _Design("Lantern Room Sessions (Live)", "Harbour Static", 2019, LIVE_STYLE, tuple(
    f"{name} (Live)" for name in ("Doors Open", "Signal Fires", "Under the Bridge Lights", "Tidewater",
                                  "Last Train Encore")))
_STUDIO_DESIGNS = (
    _Design("Tidal Glass", "Saltmarsh Choir", 2003, STUDIO_STYLES[0], (
        "Low Water", "Glass Harbour", "Kelp Forest Hymn", "Salt on the Window", "Drift Line", "Morning Fog Lifts")),
    _Design("Late Bus Home", "Mellow Circuit", 2018, STUDIO_STYLES[1], (
        "Rain on the Upper Deck", "Corner Shop Neon", "Sleepy Transfer", "Headphones On", "Night Route 44",
        "Almost There")),
    _Design("Pixel Harbor", "Eight Bit Lighthouse", 2011, STUDIO_STYLES[2], (
        "Press Start", "Harbor Town", "Cloud Level", "Boss at the Pier", "High Score Sunset", "Continue?")),
    _Design("Letters in Autumn", "Clara Venn", 1998, STUDIO_STYLES[3], (
        "Prelude in Falling Leaves", "A Letter Unsent", "Waltz for the Attic", "Chestnut Lane",
        "November Window", "Postscript")),
    _Design("Neon Avenue", "Night Arcade", 2016, STUDIO_STYLES[4], (
        "Chrome Horizon", "Midnight Drive", "Arcade Hearts", "Palm Shadows", "Overdrive Boulevard", "Neon Rain")),
)
_ALBUM_WORDS = (
    ("Amber", "Quiet", "Hollow", "Silver", "Northern", "Paper", "Velvet", "Distant", "Slow", "Golden", "Sunken",
     "Open", "Electric", "Winter", "Borrowed", "Lucid", "Faded", "Wandering", "Crimson", "Gentle"),
    ("Rooms", "Signals", "Gardens", "Rivers", "Satellites", "Summers", "Harbours", "Lanterns", "Atlases",
     "Frequencies", "Orchards", "Maps", "Tides", "Windows", "Stations", "Horizons", "Echoes", "Islands"),
)
_ARTIST_WORDS = (
    ("Mira", "Jonah", "Ines", "Teo", "Ada", "Felix", "Noor", "Elias", "Saoirse", "Kenji", "Lena", "Oskar",
     "Velvet", "Copper", "Lunar", "Static", "Cedar", "Pale", "Blue", "Glass"),
    ("Vale", "Okafor", "Lindqvist", "Moreau", "Castell", "Brandt", "Ishikawa", "Reyes", "Halloran", "Novak",
     "Atlas", "Foxes", "Collective", "Orchestra", "Motel", "Parade", "Engine", "Assembly"),
)
_TRACK_WORDS = (
    ("Blue", "Late", "Small", "Paper", "Quiet", "First", "Last", "Open", "Bright", "Low", "Slow", "Hidden"),
    ("Hour", "Light", "Harbour", "Letter", "Engine", "Orbit", "Garden", "Signal", "Window", "Season", "Valley",
     "Lantern", "Avenue", "Weather"),
)


def _name_pool(rng: np.random.Generator, words: tuple[tuple[str, ...], tuple[str, ...]],
               taken: set[str]) -> list[str]:
    names = [f"{a} {b}" for a in words[0] for b in words[1] if f"{a} {b}" not in taken]
    return [names[i] for i in rng.permutation(len(names))]


def _pick(pool: list[str], index: int) -> str:
    """The index-th name of a pool; past its end the pool repeats with a volume number."""
    volume = index // len(pool)
    return pool[index % len(pool)] + (f", Vol. {volume + 1}" if volume else "")


def _design(index: int, rng: np.random.Generator, titles: list[str], artists: list[str]) -> _Design:
    if index == 0:
        return _LIVE_DESIGN
    if index <= len(_STUDIO_DESIGNS):
        return _STUDIO_DESIGNS[index - 1]
    generated = index - len(_STUDIO_DESIGNS) - 1
    track_pool = [f"{a} {b}" for a in _TRACK_WORDS[0] for b in _TRACK_WORDS[1]]
    track_titles = tuple(track_pool[i] for i in rng.choice(len(track_pool), 6, replace=False))
    return _Design(_pick(titles, generated), _pick(artists, generated), int(rng.integers(1995, 2026)),
                   STUDIO_STYLES[int(rng.integers(len(STUDIO_STYLES)))], track_titles)


def _read_only(planar: Audio) -> Audio:
    frozen = np.ascontiguousarray(planar.T, dtype=np.float32)
    frozen.flags.writeable = False
    return frozen


def demo_albums(count: int, *, seconds_per_track: float = 90.0, seed: int = 0, first: int = 0) -> Iterator[DemoAlbum]:
    """Yield albums ``first`` to ``count - 1``, rendered one at a time; album 0 is always the gapless live set.

    Album ``i`` depends only on ``seed`` and ``i``, so a longer catalog starts with the same albums.
    Arguments are checked at the call, before anything is rendered.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    if not seconds_per_track >= MIN_SECONDS_PER_TRACK:
        raise ValueError(f"seconds_per_track must be >= {MIN_SECONDS_PER_TRACK}, got {seconds_per_track}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return _render_albums(count, seconds_per_track, seed, first)


def _render_albums(count: int, seconds_per_track: float, seed: int, first: int) -> Iterator[DemoAlbum]:
    names_rng = np.random.default_rng([seed, _NAMES_STREAM])
    hand_made = {d.title for d in _STUDIO_DESIGNS} | {d.artist for d in _STUDIO_DESIGNS} | {_LIVE_DESIGN.artist}
    titles = _name_pool(names_rng, _ALBUM_WORDS, hand_made)
    artists = _name_pool(names_rng, _ARTIST_WORDS, hand_made)
    for index in range(first, count):
        rng = np.random.default_rng([seed, index])
        design = _design(index, rng, titles, artists)
        if index == 0:
            pcms = live_set(rng, seconds_per_track)
        else:
            pcms = [studio_track(rng, design.style, frames)
                    for frames in track_lengths(rng, int(rng.integers(4, 7)), seconds_per_track)]
        tracks = tuple(DemoTrack(title, number, 1, _read_only(pcm))
                       for number, (title, pcm) in enumerate(zip(design.track_titles, pcms, strict=False), start=1))
        yield DemoAlbum(design.title, design.artist, design.year, design.style.genre, index == 0, SAMPLE_RATE,
                        tracks)
