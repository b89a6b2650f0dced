"""Track radio: a seed's nearest tracks in the index, never an excluded one, never one artist twice in a row.

It reads only the model and the artist of each candidate; the caller keeps the window of what already played.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import numpy as np

from server.recs.model import RecsModel

_CANDIDATES_PER_TRACK = 6
_MAX_CANDIDATES = 3000


def seed_vector(model: RecsModel, track_id: int, raw_audio: Callable[[int], np.ndarray | None]) -> np.ndarray | None:
    """The seed's vector: the model's, or for a track ingested after training, its sound's (None: neither)."""
    row = model.row_of(track_id)
    if row is not None:
        return np.asarray(model.track_vectors(np.array([row]))[0])
    audio = raw_audio(track_id)
    return None if audio is None else model.vector_of_sound(audio)


def radio(model: RecsModel, seed: int, seed_vector: np.ndarray, artists: Callable[[list[int]], Mapping[int, int]],
          limit: int, exclude: Collection[int]) -> list[int]:
    """Up to ``limit`` neighbours of ``seed`` (nearest first as far as the artist rule lets), none in ``exclude``."""
    k = min(_MAX_CANDIDATES, limit * _CANDIDATES_PER_TRACK + len(exclude) + 1)
    candidates = [neighbour.track_id for neighbour in model.index.nearest(seed_vector, k)
                  if neighbour.track_id != seed and neighbour.track_id not in exclude]
    artist_of = artists([seed, *candidates])
    return no_artist_twice_in_a_row(candidates, artist_of, artist_of.get(seed), limit)


def no_artist_twice_in_a_row(ranked: list[int], artist_of: Mapping[int, int], previous_artist: int | None,
                             limit: int) -> list[int]:
    """Take tracks in rank order, passing over (for now) any whose artist is the one just before it."""
    chosen: list[int] = []
    waiting = list(ranked)
    while waiting and len(chosen) < limit:
        position = next((i for i, track in enumerate(waiting) if artist_of.get(track) != previous_artist), None)
        if position is None:
            break
        track = waiting.pop(position)
        chosen.append(track)
        previous_artist = artist_of.get(track)
    return chosen
