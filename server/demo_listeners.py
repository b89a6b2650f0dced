"""The demo's recommendations made real (over the demo's albums and samplers): synthetic listeners who love one
or two genres, a short history for the demo user, a trained model.

Idempotent like the rest of the demo: what exists is kept, and nothing here ever deletes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from server import likes, plays
from server.catalog import Catalog
from server.plays import PlayEvent
from server.recs import population, training

LISTENER_PREFIX = "listener"
LISTENER_PASSWORD = "listener"
_LISTENER_PLAYS = 40
_DEMO_HISTORY = 12  # the demo user's own plays: the first tracks of the demo's first two albums


def add_listeners(data_dir: Path, demo_user: str, count: int, history_albums: Sequence[tuple[str, str]],
                  progress: Callable[[str], None]) -> None:
    """``count`` listeners with planted tastes, the demo user's history (the first tracks of ``history_albums``,
    each (artist, title)), then a trained model."""
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
        _demo_history(catalog, demo_user, history_albums, now_ms)
    finally:
        catalog.close()
    progress(str(training.train_data_dir(data_dir)))


def hash_genre(genre: str) -> int:
    """A stable cluster number per genre name (the listeners' tastes are planted over genres)."""
    return sum((index + 1) * ord(char) for index, char in enumerate(genre))


def _demo_history(catalog: Catalog, demo_user: str, albums: Sequence[tuple[str, str]], now_ms: int) -> None:
    user = catalog.user_by_name(demo_user)
    if user is None or catalog.query_one("SELECT 1 AS x FROM plays WHERE user_id = ?", [user["id"]]):
        return
    rows = [row for artist, title in albums for row in catalog.query(
        "SELECT tracks.id FROM tracks JOIN albums ON albums.id = tracks.album_id JOIN artists ON artists.id = "
        "albums.artist_id WHERE artists.name = ? AND albums.title = ? ORDER BY tracks.track_no", [artist, title])]
    rows = rows[:_DEMO_HISTORY]
    hour_ms = 3600 * 1000
    events = [PlayEvent(f"00000000-0000-4000-8000-{number:012d}", int(row["id"]),
                        now_ms - (len(rows) - number) * hour_ms, 90_000, True, False, "album", None)
              for number, row in enumerate(rows)]
    plays.record(catalog, int(user["id"]), events, now_ms=now_ms)
    for row in rows[:2]:
        likes.like(catalog, int(user["id"]), int(row["id"]))
