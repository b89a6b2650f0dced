"""The approximate-nearest-neighbour index over track vectors (Spotify's Voyager, HNSW), searched by inner product.

Maximum inner product becomes nearest-neighbour search by one extra coordinate per track (Bachrach et al. 2014:
``[v, sqrt(M^2 - |v|^2)] / M`` for the largest norm M), so the index is an ordinary cosine HNSW.
It never writes a file itself: ``to_bytes`` hands the caller what to store atomically.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import voyager

_M = 16
_EF_CONSTRUCTION = 120
_EF_SEARCH = 160


@dataclass(frozen=True)
class Neighbour:
    track_id: int
    score: float  # the inner product of the query with the track's vector


class TrackIndex:
    """Track vectors by track id, searchable for the largest inner products with a query vector."""

    def __init__(self, index: voyager.Index, max_norm: float) -> None:
        self._index = index
        self._max_norm = max_norm
        self._index.ef = _EF_SEARCH

    @classmethod
    def build(cls, track_ids: np.ndarray, vectors: np.ndarray, threads: int = -1) -> TrackIndex:
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1)
        max_norm = float(norms.max()) if len(norms) and norms.max() > 0 else 1.0
        extra = np.sqrt(np.maximum(max_norm**2 - norms**2, 0.0))[:, None]
        augmented = np.hstack([vectors, extra]).astype(np.float32) / max_norm
        index = voyager.Index(voyager.Space.Cosine, num_dimensions=vectors.shape[1] + 1, M=_M,
                              ef_construction=_EF_CONSTRUCTION, max_elements=max(1, len(track_ids)))
        if len(track_ids):
            index.add_items(augmented, ids=[int(track_id) for track_id in track_ids], num_threads=threads)
        return cls(index, max_norm)

    @classmethod
    def from_bytes(cls, data: bytes, max_norm: float) -> TrackIndex:
        return cls(voyager.Index.load(io.BytesIO(data)), max_norm)

    def to_bytes(self) -> bytes:
        return bytes(self._index.as_bytes())

    @property
    def max_norm(self) -> float:
        return self._max_norm

    def __len__(self) -> int:
        return int(self._index.num_elements)

    def nearest(self, query: np.ndarray, k: int) -> list[Neighbour]:
        """Up to ``k`` tracks with the largest inner product with ``query``, best first."""
        k = min(k, len(self))
        norm = float(np.linalg.norm(query))
        if k == 0 or norm == 0:
            return []
        probe = np.append(np.asarray(query, dtype=np.float32) / norm, np.float32(0.0))
        ids, distances = self._index.query(probe, k=k, query_ef=max(_EF_SEARCH, k))
        # Cosine distance is 1 - cos; cos times both norms is the inner product with the original vector.
        return [Neighbour(int(track_id), float((1.0 - distance) * norm * self._max_norm))
                for track_id, distance in zip(ids, distances, strict=True)]

    def nearest_many(self, queries: np.ndarray, k: int, threads: int = -1) -> np.ndarray:
        """The ids (uint64, shape (queries, k)) of the ``k`` best tracks for each query row (for batch use)."""
        norms = np.linalg.norm(queries, axis=1, keepdims=True)
        probes = np.hstack([queries / np.where(norms == 0, 1.0, norms), np.zeros((len(queries), 1))])
        ids, _distances = self._index.query(probes.astype(np.float32), k=min(k, len(self)),
                                            num_threads=threads, query_ef=max(_EF_SEARCH, k))
        return np.asarray(ids)
