"""The demo's recommendations made real: short sampler albums by more artists (rendered and ingested two at a
time), synthetic listeners who love one or two genres, a short history for the demo user, a trained model.

Idempotent like the rest of the demo: what exists is kept, and nothing here ever deletes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from server import likes, plays
from server.catalog import Catalog
from server.plays import PlayEvent
from server.recs import population, training
from server.synth import demo_albums

LISTENER_PREFIX = "listener"
LISTENER_PASSWORD = "listener"
SAMPLER_TRACKS = 3  # per sampler album: enough for two Discover Weekly picks per artist and a radio hop
_LISTENER_PLAYS = 40
_DEMO_HISTORY = 12  # the demo user's own plays: the first tracks of the first two albums


def add_samplers(data_dir: Path, first: int, count: int, seconds_per_track: float,
                 progress: Callable[[str], None]) -> None:
    """Albums ``first`` .. ``first + count - 1`` of the demo's sequence, SAMPLER_TRACKS short tracks each."""
    with ProcessPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(_sampler, data_dir, index, seconds_per_track) for index in range(first, first + count)]
        for number, job in enumerate(jobs, start=1):
            progress(f"[sampler {number}/{count}] {job.result()}")


def _sampler(data_dir: Path, index: int, seconds_per_track: float) -> str:
    from server.demo import album_exists, ingest_album  # server.demo imports this module: import at call time

    album = next(demo_albums(index + 1, seconds_per_track=seconds_per_track, first=index))
    album = dataclasses.replace(album, tracks=album.tracks[:SAMPLER_TRACKS])
    if album_exists(data_dir, album):
        return f"{album.artist} - {album.title}: already in the catalog"
    ingest_album(data_dir, album)
    return f"{album.artist} - {album.title}: {len(album.tracks)} tracks ingested"


def add_listeners(data_dir: Path, demo_user: str, count: int, progress: Callable[[str], None]) -> None:
    """``count`` listeners with planted tastes, the demo user's history, then a trained model."""
    now_ms = int(time.time() * 1000)
    catalog = Catalog.open(data_dir)
    try:
        if count and catalog.user_by_name(f"{LISTENER_PREFIX}-1") is None:
            genres = {int(row["id"]): hash_genre(str(row["genre"])) for row in catalog.query(
                "SELECT tracks.id, COALESCE(albums.genre, '') AS genre FROM tracks "
                "JOIN albums ON albums.id = tracks.album_id")}
            population.plant(catalog, genres, count, _LISTENER_PLAYS, now_ms, prefix=LISTENER_PREFIX,
                             password=LISTENER_PASSWORD)
            progress(f"{count} listeners with planted tastes added ({LISTENER_PREFIX}-1 .. {LISTENER_PREFIX}-{count})")
        _demo_history(catalog, demo_user, now_ms)
    finally:
        catalog.close()
    progress(str(training.train_data_dir(data_dir)))


def hash_genre(genre: str) -> int:
    """A stable cluster number per genre name (the listeners' tastes are planted over genres)."""
    return sum((index + 1) * ord(char) for index, char in enumerate(genre))


def _demo_history(catalog: Catalog, demo_user: str, now_ms: int) -> None:
    user = catalog.user_by_name(demo_user)
    if user is None or catalog.query_one("SELECT 1 AS x FROM plays WHERE user_id = ?", [user["id"]]):
        return
    rows = catalog.query("SELECT tracks.id FROM tracks WHERE tracks.album_id IN (SELECT id FROM albums ORDER BY id "
                         "LIMIT 2) ORDER BY tracks.album_id, tracks.track_no LIMIT ?", [_DEMO_HISTORY])
    hour_ms = 3600 * 1000
    events = [PlayEvent(f"00000000-0000-4000-8000-{number:012d}", int(row["id"]),
                        now_ms - (len(rows) - number) * hour_ms, 90_000, True, False, "album", None)
              for number, row in enumerate(rows)]
    plays.record(catalog, int(user["id"]), events, now_ms=now_ms)
    for row in rows[:2]:
        likes.like(catalog, int(user["id"]), int(row["id"]))
