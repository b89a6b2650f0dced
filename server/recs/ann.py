"""The approximate-nearest-neighbour index over track vectors (Spotify's Voyager, HNSW), searched by inner product.

Norm-ranging (Yan et al. 2018): tracks are split into bands of similar vector norm, and in each band maximum
inner product becomes cosine search by one extra coordinate (``[v, sqrt(M^2 - |v|^2)] / M``, M the band's
largest norm). One transform over the whole catalog fails when norms are uneven (popular tracks' factors are
far longer than cold ones'): the extra coordinate swamps the rest. A query visits bands from the longest norms
down and stops once no further band can beat what it holds (|q| M bounds a band's scores).
It never writes a file itself: ``to_bytes`` hands the caller what to store atomically.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np
import voyager

_M = 12
_EF_CONSTRUCTION = 64
_EF_SEARCH = 128
_BAND_RATIO = 2.0  # a band's longest vector is at most this many times its shortest (unless the band is small)
_MIN_BAND = 2000  # fewer tracks than this join the next band instead of forming their own


@dataclass(frozen=True)
class Neighbour:
    track_id: int
    score: float  # the inner product of the query with the track's vector


@dataclass(frozen=True)
class _Band:
    index: voyager.Index
    max_norm: float


class TrackIndex:
    """Track vectors by track id, searchable for the largest inner products with a query vector."""

    def __init__(self, bands: list[_Band]) -> None:
        self._bands = sorted(bands, key=lambda band: -band.max_norm)
        for band in self._bands:
            band.index.ef = _EF_SEARCH

    @classmethod
    def build(cls, track_ids: np.ndarray, vectors: np.ndarray, threads: int = -1) -> TrackIndex:
        vectors = np.asarray(vectors, dtype=np.float32)
        track_ids = np.asarray(track_ids, dtype=np.int64)
        norms = np.linalg.norm(vectors, axis=1) if len(vectors) else np.empty(0, dtype=np.float32)
        bands = []
        for rows in norm_bands(norms):
            max_norm = float(norms[rows].max())
            index = voyager.Index(voyager.Space.Cosine, num_dimensions=vectors.shape[1] + 1, M=_M,
                                  ef_construction=_EF_CONSTRUCTION, max_elements=len(rows))
            index.add_items(_augmented(vectors[rows], norms[rows], max_norm), ids=track_ids[rows].tolist(),
                            num_threads=threads)
            bands.append(_Band(index, max_norm))
        return cls(bands)

    @classmethod
    def from_bytes(cls, data: bytes) -> TrackIndex:
        """The index ``to_bytes`` wrote: a band count, then per band its largest norm, length and Voyager bytes."""
        if not data:
            return cls([])
        (count,) = struct.unpack_from("<I", data)
        offset = 4
        bands = []
        for _ in range(count):
            max_norm, length = struct.unpack_from("<dQ", data, offset)
            offset += 16
            bands.append(_Band(voyager.Index.load(io.BytesIO(data[offset:offset + length])), max_norm))
            offset += length
        return cls(bands)

    def to_bytes(self) -> bytes:
        if not self._bands:
            return b""
        parts = [struct.pack("<I", len(self._bands))]
        for band in self._bands:
            saved = bytes(band.index.as_bytes())
            parts += [struct.pack("<dQ", band.max_norm, len(saved)), saved]
        return b"".join(parts)

    @property
    def bands(self) -> int:
        return len(self._bands)

    def __len__(self) -> int:
        return sum(int(band.index.num_elements) for band in self._bands)

    def nearest(self, query: np.ndarray, k: int, ef: int = _EF_SEARCH) -> list[Neighbour]:
        """Up to ``k`` tracks with the largest inner product with ``query``, best first (``ef``: search depth)."""
        norm = float(np.linalg.norm(query))
        if k <= 0 or norm == 0:
            return []
        probe = np.append(np.asarray(query, dtype=np.float32) / norm, np.float32(0.0))
        found: list[Neighbour] = []
        for band in self._bands:
            if len(found) >= k and found[k - 1].score >= norm * band.max_norm:
                break  # this band (and every shorter one after it) cannot reach the k-th best score
            wanted = min(k, int(band.index.num_elements))
            ids, distances = band.index.query(probe, k=wanted, query_ef=max(ef, wanted))
            # Cosine distance is 1 - cos; cos times both norms is the inner product with the original vector.
            found += [Neighbour(int(track_id), float((1.0 - distance) * norm * band.max_norm))
                      for track_id, distance in zip(ids, distances, strict=True)]
            found.sort(key=lambda neighbour: -neighbour.score)
            del found[k:]
        return found


def norm_bands(norms: np.ndarray) -> list[np.ndarray]:
    """Rows grouped into bands of similar norm, longest first: each spans at most _BAND_RATIO, or holds
    _MIN_BAND rows (the last band takes whatever is left)."""
    order = np.argsort(-norms, kind="stable")
    bands = []
    start = 0
    while start < len(order):
        floor = norms[order[start]] / _BAND_RATIO
        stop = start + int(np.searchsorted(-norms[order[start:]], -floor, side="right"))
        stop = max(stop, start + _MIN_BAND)
        if len(order) - stop < _MIN_BAND:
            stop = len(order)
        bands.append(order[start:stop])
        start = stop
    return bands


def _augmented(vectors: np.ndarray, norms: np.ndarray, max_norm: float) -> np.ndarray:
    """``[v, sqrt(M^2 - |v|^2)] / M``: unit vectors whose cosine with ``[q, 0]`` orders tracks by inner product."""
    if max_norm == 0:  # zero vectors only: any unit vector, every score is 0
        augmented = np.zeros((len(vectors), vectors.shape[1] + 1), dtype=np.float32)
        augmented[:, -1] = 1.0
        return augmented
    extra = np.sqrt(np.maximum(max_norm**2 - norms**2, 0.0))[:, None]
    return (np.hstack([vectors, extra]) / max_norm).astype(np.float32)
