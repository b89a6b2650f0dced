"""Ranking for one listener: the index's nearest tracks to their taste, re-ranked towards what they played last.

The taste vector (ALS user solve) knows the whole history; the re-rank adds the session: each candidate's
mean cosine similarity to the user's most recent plays, blended with its taste score (both standardised).
It only ever looks at ``pool`` candidates, so it costs the same at any catalog size.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np

from server.recs.model import RecsModel

RECENT_PLAYS = 10
RECENT_WEIGHT = 0.5


def ranked(model: RecsModel, confidences: Mapping[int, float], recent: Sequence[int], excluded: Collection[int],
           pool: int) -> list[int] | None:
    """Up to ``pool`` tracks not in ``excluded``, best first; None when the user has no positive in the model."""
    taste = model.taste(dict(confidences))
    if taste is None:
        return None
    found = [neighbour for neighbour in model.index.nearest(taste, pool + len(excluded))
             if neighbour.track_id not in excluded][:pool]
    recent_rows = [row for track_id in recent[:RECENT_PLAYS] if (row := model.row_of(track_id)) is not None]
    candidate_rows = [model.row_of(neighbour.track_id) for neighbour in found]
    if len(found) < 2 or not recent_rows or any(row is None for row in candidate_rows):
        return [neighbour.track_id for neighbour in found]
    session = unit_rows(model.track_vectors(np.array(recent_rows)))
    candidates = unit_rows(model.track_vectors(np.array(candidate_rows)))
    similarity = (candidates @ session.T).mean(axis=1)
    scores = np.array([neighbour.score for neighbour in found])
    blended = _standard(scores) + RECENT_WEIGHT * _standard(similarity)
    return [found[i].track_id for i in np.argsort(-blended, kind="stable")]


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1.0, norms))


def _standard(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return np.asarray((values - values.mean()) / (spread if spread > 1e-12 else 1.0))
