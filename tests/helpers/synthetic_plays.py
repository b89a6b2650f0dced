"""Synthetic listening at scale for the recommender's benchmark and tests: clustered tastes over tracks whose sound
follows their cluster, with a long-tailed popularity (a few tracks get most plays), as a confidence matrix."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from server.recs.audio_features import DIMENSION
from server.recs.interactions import confidence
from server.recs.model import RecsModel


def synthetic_catalog(users: int, tracks: int, plays: int,
                      rng: np.random.Generator) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """``plays`` plays with a long-tailed track popularity and clustered tastes (a confidence matrix), each track's
    raw audio vector (its cluster's sound plus its own) and its cluster."""
    clusters = 200
    track_cluster = rng.integers(0, clusters, tracks)
    sounds = rng.normal(size=(clusters, DIMENSION))
    audio = (sounds[track_cluster] + 0.7 * rng.normal(size=(tracks, DIMENSION))).astype(np.float32)
    by_cluster = [np.flatnonzero(track_cluster == c) for c in range(clusters)]
    user_cluster = rng.integers(0, clusters, users)
    per_user = np.maximum(1, rng.poisson(plays / users, users))
    rows, cols = [], []
    for user in range(users):
        pool = by_cluster[user_cluster[user]]
        own = pool[np.minimum(rng.zipf(1.3, per_user[user]) - 1, len(pool) - 1)]
        rows.append(np.full(len(own), user))
        cols.append(own)
    heard = sp.csr_matrix((np.ones(sum(map(len, rows)), dtype=np.float32),
                           (np.concatenate(rows), np.concatenate(cols))), shape=(users, tracks))
    heard.sum_duplicates()
    heard.data = confidence(heard.data, np.zeros_like(heard.data), np.zeros_like(heard.data))
    return heard, audio, track_cluster


def taste_queries(model: RecsModel, confidences: sp.csr_matrix, count: int) -> np.ndarray:
    """The taste vectors of the first ``count`` users with a positive (what Discover Weekly queries with)."""
    queries = []
    for user in range(confidences.shape[0]):
        start, stop = confidences.indptr[user], confidences.indptr[user + 1]
        taste = model.taste({int(track): float(value) for track, value in
                             zip(confidences.indices[start:stop], confidences.data[start:stop], strict=True)})
        if taste is not None:
            queries.append(taste)
        if len(queries) == count:
            break
    return np.array(queries, dtype=np.float32)
