"""A synthetic metadata-only catalog of N tracks for benchmarks and load tests: names drawn from a real word list
(Debian's wamerican), Zipf-distributed popularity, a few regions with a home region per artist.

Deterministic for a seed. It writes metadata only (marked like every import, see server/metadata_import.py),
never audio, and must never be mistaken for the demo catalog.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from pathlib import Path

from server.catalog import Catalog
from server.exceptions import ServerError
from server.metadata_import import MetadataTrack, store

WORD_LIST = Path("/usr/share/dict/words")
REGIONS = ("GB", "US", "DE", "FR", "SE", "JP", "BR")
TRACKS_PER_ALBUM = 10
ALBUMS_PER_ARTIST = 3


class WordListMissing(ServerError):
    """The word list the synthetic names are drawn from is not installed."""


def word_list(path: Path = WORD_LIST) -> list[str]:
    """The plain lower-case words of ``path`` (no possessives, proper names or one-letter words)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").split()
    except FileNotFoundError:
        raise WordListMissing(f"{path} is missing: install Debian's word list (apt-get install wamerican)") from None
    return sorted({word for word in lines if word.isalpha() and word.islower() and word.isascii() and len(word) > 1})


def synth(data_dir: Path, tracks: int, seed: int = 0, progress: Callable[[int], None] | None = None) -> int:
    """Add ``tracks`` synthetic tracks to the catalog in ``data_dir``; how many were new."""
    catalog = Catalog.open(data_dir)
    try:
        return store(catalog, synthetic_tracks(tracks, seed), progress)
    finally:
        catalog.close()


def synthetic_tracks(count: int, seed: int = 0) -> Iterator[MetadataTrack]:
    """``count`` tracks, albums of ten by artists of three albums; the popularity of the track at rank r (a
    random order) follows Zipf's law: r-th most played gets plays ∝ 1/r, shown 0-100 on a log scale."""
    chooser = random.Random(seed)
    words = word_list()
    ranks = list(range(1, count + 1))
    chooser.shuffle(ranks)
    scale = math.log10(1 + count)
    artist = album = ""
    home = REGIONS[0]
    for number in range(count):
        if number % (TRACKS_PER_ALBUM * ALBUMS_PER_ARTIST) == 0:
            artist = _name(chooser, words, 1, 2)
            home = chooser.choice(REGIONS)
        if number % TRACKS_PER_ALBUM == 0:
            album = _name(chooser, words, 1, 3)
        popularity = round(100 * math.log10(1 + count / ranks[number]) / scale)
        licensed = REGIONS if chooser.random() < 0.9 else tuple(r for r in REGIONS if chooser.random() < 0.5)
        yield MetadataTrack(
            title=_name(chooser, words, 1, 4), artist=artist, album=album, popularity=popularity,
            regions=licensed or (home,), popularity_by_region={home: min(100, popularity + 20)},
            duration_s=chooser.uniform(120.0, 360.0))


def _name(chooser: random.Random, words: list[str], shortest: int, longest: int) -> str:
    return " ".join(chooser.choice(words).capitalize() for _ in range(chooser.randint(shortest, longest)))
