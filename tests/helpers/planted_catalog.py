"""A catalog for recommender tests: metadata-only tracks in genres of a few artists each, with audio vectors that
sound like their genre, in a real SQLite catalog (no audio files: nothing here is ever played)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from server.catalog import Catalog, NewTrack
from server.recs import audio_catalog
from server.recs.audio_features import DIMENSION


@dataclass(frozen=True)
class PlantedCatalog:
    data_dir: Path
    genre_of: dict[int, int]  # track id -> genre
    artist_of: dict[int, int]  # track id -> artist id
    sound_of_genre: np.ndarray  # (genres, DIMENSION): the centre each genre's audio vectors scatter around


def new_track(title: str, artist: str, album: str, genre: str) -> NewTrack:
    return NewTrack(title=title, artist=artist, album=album, album_artist=artist, disc_no=1, track_no=1,
                    duration_samples=44100 * 120, sample_rate=44100, popularity=50, regions=("GB",),
                    release_time="2020", genre=genre, gapless=False, loudness_lufs=-14.0, peak_dbfs=-1.0,
                    source_sha256=hashlib.sha256(f"{artist}/{album}/{title}".encode()).hexdigest())


def planted_catalog(data_dir: Path, genres: int = 6, artists_per_genre: int = 8, tracks_per_artist: int = 6,
                    seed: int = 3) -> PlantedCatalog:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(genres, DIMENSION)).astype(np.float32)
    catalog = Catalog.open(data_dir)
    genre_of: dict[int, int] = {}
    artist_of: dict[int, int] = {}
    try:
        for genre in range(genres):
            for artist in range(artists_per_genre):
                for number in range(tracks_per_artist):
                    with catalog.transaction():
                        track_id = catalog.insert_track(new_track(f"Song {number}", f"Artist {genre}-{artist}",
                                                                  f"Album {genre}-{artist}", f"genre {genre}"))
                    audio_catalog.store_vector(catalog, track_id, centres[genre] + rng.normal(0, 1, DIMENSION))
                    genre_of[track_id] = genre
                    row = catalog.query_one("SELECT artist_id FROM tracks WHERE id = ?", [track_id])
                    assert row is not None
                    artist_of[track_id] = int(row["artist_id"])
    finally:
        catalog.close()
    return PlantedCatalog(data_dir, genre_of, artist_of, centres)
