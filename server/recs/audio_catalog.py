"""Audio vectors in the catalog: stored at ingest, read for training, and filled in for tracks ingested before
the recommender existed (decoded once from their lossless origin copy; never re-transcoded, never recomputed).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from server import origin
from server.catalog import Catalog
from server.exceptions import IngestError
from server.recs.audio_features import DIMENSION, FEATURES_VERSION, audio_vector
from server.transcode import decode

_log = logging.getLogger(__name__)


def store(catalog: Catalog, track_id: int, pcm: np.ndarray, sample_rate: int) -> None:
    """Compute and keep the track's audio vector (replacing an older version's)."""
    store_vector(catalog, track_id, audio_vector(pcm, sample_rate))


def store_vector(catalog: Catalog, track_id: int, vector: np.ndarray) -> None:
    with catalog.transaction():
        catalog.execute("INSERT INTO audio_features (track_id, version, vector) VALUES (?, ?, ?) "
                        "ON CONFLICT (track_id) DO UPDATE SET version = excluded.version, vector = excluded.vector",
                        [track_id, FEATURES_VERSION, vector.astype("<f4").tobytes()])


def vectors(catalog: Catalog) -> tuple[np.ndarray, np.ndarray]:
    """Every stored current-version vector: the track ids (int64) and a (tracks, DIMENSION) float32 matrix."""
    rows = catalog.query("SELECT track_id, vector FROM audio_features WHERE version = ? ORDER BY track_id",
                         [FEATURES_VERSION])
    ids = np.array([int(row["track_id"]) for row in rows], dtype=np.int64)
    matrix = np.zeros((len(rows), DIMENSION), dtype=np.float32)
    for index, row in enumerate(rows):
        matrix[index] = np.frombuffer(row["vector"], dtype="<f4")
    return ids, matrix


def vector_of(catalog: Catalog, track_id: int) -> np.ndarray | None:
    """One track's stored raw audio vector, if it has a current one."""
    row = catalog.query_one("SELECT vector FROM audio_features WHERE track_id = ? AND version = ?",
                            [track_id, FEATURES_VERSION])
    return None if row is None else np.frombuffer(row["vector"], dtype="<f4").copy()


def missing(catalog: Catalog) -> list[int]:
    """Tracks with no current audio vector (ingested before it existed, or by an older feature version)."""
    rows = catalog.query("SELECT tracks.id FROM tracks LEFT JOIN audio_features ON audio_features.track_id = tracks.id "
                         "AND audio_features.version = ? WHERE audio_features.id IS NULL ORDER BY tracks.id",
                         [FEATURES_VERSION])
    return [int(row["id"]) for row in rows]


def fill_missing(data_dir: Path, progress: Callable[[str], None] | None = None) -> int:
    """Compute the vector of every track that lacks one from its lossless origin copy; returns how many."""
    catalog = Catalog.open(data_dir)
    done = 0
    try:
        for track_id in missing(catalog):
            try:
                pcm, sample_rate = decoded_origin(catalog, data_dir, track_id)
            except (IngestError, OSError) as exc:
                _log.warning("track %d has no audio vector: its origin copy cannot be decoded (%s)", track_id, exc)
                continue
            store(catalog, track_id, pcm, sample_rate)
            done += 1
            if progress:
                progress(f"audio vector of track {track_id} computed")
    finally:
        catalog.close()
    return done


def decoded_origin(catalog: Catalog, data_dir: Path, track_id: int) -> tuple[np.ndarray, int]:
    """The track's best origin copy (lossless first) decoded: its PCM and rate."""
    row = catalog.query_one("SELECT id, key, nonce, container FROM files WHERE track_id = ? ORDER BY "
                            "quality = 'lossless' DESC, bitrate DESC LIMIT 1", [track_id])
    if row is None:
        raise IngestError(Path(f"track {track_id}"), "it has no transcoded file")
    ciphertext = origin.origin_path(data_dir, int(row["id"])).read_bytes()
    plaintext = origin.transform(ciphertext, bytes.fromhex(row["key"]), bytes.fromhex(row["nonce"]))
    with tempfile.NamedTemporaryFile(suffix=f".{row['container']}") as temp:
        temp.write(plaintext)
        temp.flush()
        audio = decode(Path(temp.name))
    return audio.pcm, audio.sample_rate

