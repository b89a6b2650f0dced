"""The recommender's model: ALS track factors (``implicit``) joined with audio vectors, and the index over them.

How the two are combined: every track gets a collaborative part and an audio part. A track someone played
keeps its ALS factors; a track nobody played gets factors predicted from its audio by a ridge regression
fitted on the played ones, so it can rank among them. The audio part (standardised features) is appended,
scaled to the factors' size and weighted by AUDIO_WEIGHT: radio between two tracks and a user's taste both
see how they sound, most of all where play data says little. Pure logic: training never touches the disk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from server.recs.ann import TrackIndex

FACTORS = 48
REGULARIZATION = 0.05
ITERATIONS = 15
AUDIO_WEIGHT = 0.35
AUDIO_RIDGE = 10.0


@dataclass(frozen=True)
class Settings:
    factors: int = FACTORS
    regularization: float = REGULARIZATION
    iterations: int = ITERATIONS
    audio_weight: float = AUDIO_WEIGHT
    threads: int = 0  # 0: every core
    seed: int = 42


DEFAULT_SETTINGS = Settings()


@dataclass(frozen=True)
class RecsModel:
    """Track vectors (collaborative + audio parts), what solving a user's taste needs, and the ANN index."""

    track_ids: np.ndarray  # int64 (tracks,)
    cf: np.ndarray  # float32 (tracks, factors): ALS factors, predicted from audio where a track has no plays
    audio: np.ndarray  # float32 (tracks, DIMENSION): standardised, unit-sized on average
    warm: np.ndarray  # bool (tracks,): the track had plays or likes at training
    gram: np.ndarray  # float64 (factors, factors): Y^T Y + regularisation, over the trained factors
    audio_mean: np.ndarray  # float32 (DIMENSION,): how raw audio vectors were standardised ...
    audio_spread: np.ndarray  # ... (their mean and spread over the catalog)
    audio_to_cf: np.ndarray  # float32 (DIMENSION, factors): the ridge map from sound to factors (zeros untrained)
    audio_scale: float  # the typical size of a warm track's factors, which the audio part is scaled to
    audio_weight: float
    trained_ms: int
    newest_received_ms: int
    index: TrackIndex
    _rows: dict[int, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._rows.update((int(track_id), row) for row, track_id in enumerate(self.track_ids))

    def row_of(self, track_id: int) -> int | None:
        return self._rows.get(track_id)

    def track_vectors(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The index's vectors of these rows."""
        return index_vectors(self.cf[rows], self.audio[rows], self.audio_weight, self.audio_scale)

    def vector_of_sound(self, raw_audio: np.ndarray) -> np.ndarray:
        """The index vector a track not in the model would have, from its raw audio vector alone."""
        audio = _scaled(raw_audio[None, :], self.audio_mean, self.audio_spread)
        vectors = index_vectors(audio @ self.audio_to_cf, audio, self.audio_weight, self.audio_scale)
        return np.asarray(vectors[0])

    def taste(self, confidences: dict[int, float]) -> np.ndarray | None:
        """A user's query vector from their confidences per track (None if no positive is in the model).

        The collaborative part is the ALS user solve (the same normal equations ``implicit`` solves, negatives
        included); the audio part is the confidence-weighted mean sound of what they liked, scaled so that its
        inner product with a track's audio part is ``w^2`` times their audio similarity.
        """
        pairs = [(row, value) for track_id, value in confidences.items()
                 if (row := self.row_of(track_id)) is not None]
        positives = [(row, value) for row, value in pairs if value > 0]
        if not positives:
            return None
        lhs = self.gram.copy()
        rhs = np.zeros(self.cf.shape[1])
        for row, value in pairs:
            y = self.cf[row].astype(np.float64)
            lhs += (abs(value) - 1.0) * np.outer(y, y)
            if value > 0:
                rhs += value * y
        user = np.linalg.solve(lhs, rhs) if self.warm.any() else rhs
        weights = np.array([value for _row, value in positives])
        sound = (weights[:, None] * self.audio[[row for row, _value in positives]]).sum(axis=0) / weights.sum()
        return np.hstack([user, self.audio_weight * sound / self.audio_scale]).astype(np.float32)


def train(track_ids: np.ndarray, audio: np.ndarray, confidence: sp.csr_matrix, newest_received_ms: int,
          settings: Settings = DEFAULT_SETTINGS) -> RecsModel:
    """Fit ALS on ``confidence`` (users x ``track_ids``), predict factors of unplayed tracks, build the index.

    ``audio`` holds the raw audio vector of each track (rows as ``track_ids``; zeros where one is missing).
    """
    n_tracks = len(track_ids)
    mean, spread = _spread_of(audio)
    audio = _scaled(audio, mean, spread)
    audio_to_cf = np.zeros((audio.shape[1], settings.factors), dtype=np.float32)
    warm = np.asarray((abs(confidence) > 0).sum(axis=0)).ravel() > 0 if confidence.shape[0] else np.zeros(
        n_tracks, dtype=bool)
    cf = np.zeros((n_tracks, settings.factors), dtype=np.float32)
    if warm.any():
        with threadpool_limits(1, "blas"):  # implicit parallelises itself; nested BLAS threads only contend
            als = AlternatingLeastSquares(factors=settings.factors, regularization=settings.regularization,
                                          iterations=settings.iterations, num_threads=settings.threads,
                                          random_state=settings.seed)
            als.fit(confidence.astype(np.float32), show_progress=False)
        cf = np.asarray(als.item_factors, dtype=np.float32)
        audio_to_cf = _audio_to_cf(audio, cf, warm)
        cf[~warm] = audio[~warm] @ audio_to_cf
    gram = cf[warm].astype(np.float64).T @ cf[warm].astype(np.float64) + settings.regularization * np.eye(
        settings.factors)
    scale = float(np.median(np.linalg.norm(cf[warm], axis=1))) if warm.any() else 1.0
    scale = max(scale, 1e-6)
    track_ids = np.asarray(track_ids, dtype=np.int64)
    index = TrackIndex.build(track_ids, index_vectors(cf, audio, settings.audio_weight, scale),
                             threads=settings.threads if settings.threads > 0 else -1)
    return RecsModel(track_ids, cf, audio, warm, gram, mean, spread, audio_to_cf, scale, settings.audio_weight,
                     int(time.time() * 1000), newest_received_ms, index)


def index_vectors(cf: np.ndarray, audio: np.ndarray, audio_weight: float, audio_scale: float) -> np.ndarray:
    """What the index holds per track: ``[cf, w * s * audio]``."""
    return np.hstack([cf, audio_weight * audio_scale * audio]).astype(np.float32)


def _spread_of(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each feature's mean and spread over the catalog (spread 1 where a feature does not vary)."""
    if len(audio) < 2:
        return np.zeros(audio.shape[1], dtype=np.float32), np.ones(audio.shape[1], dtype=np.float32)
    spread = audio.std(axis=0)
    return audio.mean(axis=0).astype(np.float32), np.where(spread > 1e-9, spread, 1.0).astype(np.float32)


def _scaled(audio: np.ndarray, mean: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Standardised features, divided by sqrt(dimension) so that a row's norm is about 1."""
    standard = (np.asarray(audio, dtype=np.float32) - mean) / spread / np.sqrt(audio.shape[1])
    return np.asarray(standard, dtype=np.float32)


def _audio_to_cf(audio: np.ndarray, cf: np.ndarray, warm: np.ndarray) -> np.ndarray:
    """Ridge regression from the audio of played tracks to their factors (applied to the unplayed ones)."""
    known = audio[warm].astype(np.float64)
    weights = np.linalg.solve(known.T @ known + AUDIO_RIDGE * np.eye(audio.shape[1]), known.T @ cf[warm])
    return weights.astype(np.float32)
