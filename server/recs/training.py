"""One training run over a data dir: fill missing audio vectors, read the history, fit, store the model.

Run by ``legato-server recs train`` and, in a child process, by ``serve``'s schedule; it never serves requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from server.catalog import Catalog
from server.recs import audio_catalog, interactions, model_store
from server.recs.audio_features import DIMENSION
from server.recs.model import DEFAULT_SETTINGS, Settings, train


@dataclass(frozen=True)
class TrainingReport:
    tracks: int
    played_tracks: int
    users: int
    confidences: int
    audio_vectors_added: int

    def __str__(self) -> str:
        return (f"trained on {self.confidences} (user, track) confidences of {self.users} users; "
                f"{self.played_tracks} of {self.tracks} tracks played, the rest placed by their audio "
                f"({self.audio_vectors_added} audio vectors computed first)")


def train_data_dir(data_dir: Path, settings: Settings = DEFAULT_SETTINGS,
                   progress: Callable[[str], None] | None = None) -> TrainingReport:
    added = audio_catalog.fill_missing(data_dir, progress)
    catalog = Catalog.open(data_dir)
    try:
        track_ids = np.array([int(row["id"]) for row in catalog.query("SELECT id FROM tracks ORDER BY id")],
                             dtype=np.int64)
        audio_ids, vectors = audio_catalog.vectors(catalog)
        audio = np.zeros((len(track_ids), DIMENSION), dtype=np.float32)
        audio[np.searchsorted(track_ids, audio_ids)] = vectors
        history = interactions.load(catalog, track_ids)
    finally:
        catalog.close()
    model = train(track_ids, audio, history.confidence, history.newest_received_ms, settings)
    model_store.save(data_dir, model)
    return TrainingReport(len(track_ids), int(model.warm.sum()), len(history.user_ids), history.confidence.nnz, added)
