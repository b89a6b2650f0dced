"""The recommender as the API uses it: the current model (trained on first need), a user's Discover Weekly for
this week, a track's radio. Reads the catalog; writes only through weekly_playlist and model_store.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from server.auth import User
from server.catalog import Catalog
from server.playlist_hub import PlaylistHub
from server.recs import audio_catalog, discover_weekly, interactions, radio, training, weekly_playlist
from server.recs.model import RecsModel
from server.recs.model_store import ModelCache
from server.recs.weekly_playlist import StoredWeek
from server.recs.weeks import week_of

_log = logging.getLogger(__name__)


class Recommender:
    """One per server process: the model cache and the lock that makes a missing model be trained once."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.models = ModelCache(data_dir)
        self._training = threading.Lock()

    def model(self) -> RecsModel:
        """The current model; on a data dir that never trained one, train it now (audio alone is quick)."""
        current = self.models.current()
        if current is not None:
            return current
        with self._training:
            current = self.models.current()
            if current is None:
                _log.info("no recommendation model yet: %s", training.train_data_dir(self.data_dir))
                current = self.models.current()
        assert current is not None, "training stored no model"
        return current

    def weekly(self, catalog: Catalog, hub: PlaylistHub, user: User, now: datetime) -> StoredWeek:
        """The user's Discover Weekly for the week ``now`` is in, made now if this week has none yet."""
        week = week_of(user.region, now)
        current = weekly_playlist.stored(catalog, user.id)
        if current is not None and current.week_of == week.isoformat():
            weekly_playlist.keep_following(catalog, hub, user.id, current.playlist_id)
            return current
        picks = self.picks(catalog, user.id, random.Random(f"{user.id}/{week.isoformat()}"))
        return weekly_playlist.publish(catalog, hub, user.id, user.name, week, picks)

    def picks(self, catalog: Catalog, user_id: int, rng: random.Random) -> list[dict[str, int | None]]:
        confidences = interactions.user_confidences(catalog, user_id)
        played = interactions.played(catalog, user_id)
        excluded = played | set(confidences)
        chosen = discover_weekly.choose(self.model(), confidences, excluded, lambda ids: artists(catalog, ids), rng,
                                        interactions.heard_latest_first(catalog, user_id))
        if chosen is None:  # no history yet: the most popular fresh tracks, two per artist at most
            rows = catalog.query("SELECT id, artist_id FROM tracks ORDER BY popularity DESC, id LIMIT ?",
                                 [len(excluded) + 10 * discover_weekly.PICKS])
            ranked = [int(row["id"]) for row in rows if int(row["id"]) not in excluded]
            fresh = discover_weekly.spread_over_artists(ranked, {int(row["id"]): int(row["artist_id"]) for row in rows},
                                                        discover_weekly.PICKS, rng, explored=0)
            return [{"track_id": track_id, "reason_track_id": None} for track_id in fresh]
        return [{"track_id": pick.track_id, "reason_track_id": pick.reason_track_id} for pick in chosen]

    def radio(self, catalog: Catalog, seed: int, limit: int, exclude: set[int]) -> list[int]:
        model = self.model()
        vector = radio.seed_vector(model, seed, lambda track_id: audio_catalog.vector_of(catalog, track_id))
        if vector is None:
            return []
        return radio.radio(model, seed, vector, lambda ids: artists(catalog, ids), limit, exclude)


def artists(catalog: Catalog, track_ids: list[int]) -> Mapping[int, int]:
    """The artist id of each of ``track_ids`` that exists."""
    found: dict[int, int] = {}
    for start in range(0, len(track_ids), 500):
        chunk = track_ids[start:start + 500]
        rows = catalog.query(f"SELECT id, artist_id FROM tracks WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        found.update((int(row["id"]), int(row["artist_id"])) for row in rows)
    return found

