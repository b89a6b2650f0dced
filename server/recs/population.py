"""Synthetic listeners with planted tastes, for the demo and the tests: each loves one or two clusters of the
catalog (a genre, an artist's sound) and plays mostly from them, skips what it does not love, likes a few.

Deterministic for a seed. It writes plays and likes through the same functions the API uses.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from server import likes, plays
from server.auth import User, hash_password
from server.catalog import Catalog
from server.plays import PlayEvent

LOVED_SHARE = 0.85  # of a listener's plays, from the clusters it loves


@dataclass(frozen=True)
class Listener:
    user: User
    loved: tuple[int, ...]  # the clusters it loves
    played: tuple[int, ...]  # track ids in play order (oldest first), skips included


def plant(catalog: Catalog, clusters: Mapping[int, int], count: int, plays_each: int, now_ms: int, seed: int = 7,
          prefix: str = "listener", password: str | None = None) -> list[Listener]:
    """``count`` listeners (users ``prefix-N``) with ``plays_each`` plays each over the last 60 days."""
    rng = random.Random(seed)
    by_cluster: dict[int, list[int]] = {}
    for track_id, cluster in sorted(clusters.items()):
        by_cluster.setdefault(cluster, []).append(track_id)
    names = sorted(by_cluster)
    password_hash = hash_password(password or uuid.uuid4().hex)  # one hash for all: scrypt is slow on purpose
    listeners = []
    for number in range(1, count + 1):
        loved = tuple(rng.sample(names, min(len(names), 1 + (rng.random() < 0.4))))
        name = f"{prefix}-{number}"
        user = User(catalog.add_user(name, password_hash, "GB"), name, "GB")
        favourites = {cluster: rng.sample(tracks, max(1, len(tracks) * 2 // 3))
                      for cluster, tracks in by_cluster.items() if cluster in loved}
        events = []
        played = []
        start = now_ms - 60 * 24 * 3600 * 1000
        for index in range(plays_each):
            loves = rng.random() < LOVED_SHARE
            pool = favourites[rng.choice(loved)] if loves else by_cluster[rng.choice(names)]
            track_id = rng.choice(pool)
            heard = loves or rng.random() < 0.3
            ms_played = rng.randint(60_000, 240_000) if heard else rng.randint(2_000, 25_000)
            started = start + index * (60 * 24 * 3600 * 1000 // plays_each)
            events.append(PlayEvent(str(uuid.uuid4()), track_id, started, ms_played, heard, not heard, "album", None))
            played.append(track_id)
        for offset in range(0, len(events), plays.MAX_EVENTS_PER_BATCH):
            plays.record(catalog, user.id, events[offset:offset + plays.MAX_EVENTS_PER_BATCH], now_ms=now_ms)
        for cluster_tracks in favourites.values():
            for track_id in rng.sample(cluster_tracks, min(2, len(cluster_tracks))):
                likes.like(catalog, user.id, track_id)
        listeners.append(Listener(user, loved, tuple(played)))
    return listeners
