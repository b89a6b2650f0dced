"""Choosing a user's Discover Weekly: fresh tracks nearest to their taste, a few explored further out, at most
two per artist, each with its reason (the user's own played track it sounds and co-occurs most like).

Pure choice over the model: reading the history and publishing the playlist happen elsewhere.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from server.recs import ranking
from server.recs.model import RecsModel

PICKS = 30
PER_ARTIST = 2
EXPLORED = 6  # of the 30, drawn from further down the ranking, so the list is never only the obvious
_EXPLORE_DEPTH = 150
CANDIDATES = 600  # index neighbours ranked for one user's picks
_REASON_POOL = 300  # the user's most confident tracks a reason is chosen among


@dataclass(frozen=True)
class Pick:
    track_id: int
    reason_track_id: int | None  # None only for a user with no history (the picks are then the popular ones)


def choose(model: RecsModel, confidences: Mapping[int, float], excluded: Collection[int],
           artists: Callable[[list[int]], Mapping[int, int]], rng: random.Random, played: Sequence[int],
           count: int = PICKS) -> list[Pick] | None:
    """The picks for a user with these confidences, or None when nothing they liked is in the model.

    ``played`` lists the tracks they heard, most recent first; reasons come from them (from any positive if
    they played none).
    """
    ranked = ranking.ranked(model, confidences, played, excluded, CANDIDATES)
    if ranked is None:
        return None
    chosen = spread_over_artists(ranked, artists(ranked), count, rng)
    heard_tracks = set(played)
    heard = {track_id: value for track_id, value in confidences.items() if track_id in heard_tracks}
    found = reasons(model, heard if any(value > 0 for value in heard.values()) else confidences, chosen)
    return [Pick(track_id, reason) for track_id, reason in zip(chosen, found, strict=True)]


def spread_over_artists(ranked: list[int], artist_of: Mapping[int, int], count: int, rng: random.Random,
                        explored: int = EXPLORED) -> list[int]:
    """``count - explored`` best-ranked tracks and ``explored`` drawn at random from deeper down, in rank order,
    with no artist more than PER_ARTIST times."""
    per_artist: Counter[int] = Counter()
    allowed = []
    for track_id in ranked:
        artist = artist_of.get(track_id, -track_id)
        if per_artist[artist] < PER_ARTIST:
            per_artist[artist] += 1
            allowed.append(track_id)
    best = allowed[:count - explored]
    deeper = allowed[count - explored:count - explored + _EXPLORE_DEPTH]
    explored_picks = rng.sample(deeper, min(explored, len(deeper)))
    rank = {track_id: index for index, track_id in enumerate(allowed)}
    chosen = sorted({*best, *explored_picks}, key=rank.__getitem__)
    taken = set(chosen)
    return chosen + [track for track in allowed if track not in taken][:count - len(chosen)]


def reasons(model: RecsModel, confidences: Mapping[int, float], chosen: list[int]) -> list[int | None]:
    """For each chosen track, the user's positively rated track whose vector is most like it (cosine)."""
    own = sorted(((value, track_id) for track_id, value in confidences.items()
                  if value > 0 and model.row_of(track_id) is not None), reverse=True)[:_REASON_POOL]
    rows = [model.row_of(track_id) for track_id in chosen]
    if not own:
        return [None] * len(chosen)
    own_vectors = ranking.unit_rows(model.track_vectors(np.array([model.row_of(track_id) for _value, track_id in own])))
    found: list[int | None] = []
    for row in rows:
        if row is None:
            found.append(None)
            continue
        similarity = own_vectors @ ranking.unit_rows(model.track_vectors(np.array([row])))[0]
        found.append(own[int(np.argmax(similarity))][1])
    return found
