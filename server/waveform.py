"""A track's waveform for the seek bar: its loudness over time in ``BINS`` slices, computed once from the decoded
audio at ingest (or, for a track ingested before, from its origin copy by an upgrade step) and served with the
manifest as ``waveform``: base64 of one byte a slice, the slice's RMS level from ``FLOOR_DB`` (0) to 0 dBFS (255).

160 bytes a track (216 in base64) keep a batch of 500 manifests ~100 KB larger; a seek bar is a few hundred
pixels wide, so more slices would not be seen.
"""

from __future__ import annotations

import base64
import logging
import threading
from pathlib import Path

import numpy as np

from server.catalog import Catalog
from server.exceptions import IngestError
from server.recs.audio_catalog import decoded_origin

_log = logging.getLogger(__name__)
BINS = 160
FLOOR_DB = -48.0


def levels(pcm: np.ndarray) -> bytes:
    """``pcm`` (frames x channels, float in [-1, 1]) as ``BINS`` slice levels, one byte each."""
    energy = np.square(pcm.astype(np.float64)).mean(axis=1)
    running = np.concatenate(([0.0], np.cumsum(energy)))
    edges = np.linspace(0, len(energy), BINS + 1).astype(np.int64)
    mean = (running[edges[1:]] - running[edges[:-1]]) / np.maximum(np.diff(edges), 1)  # an empty slice is silence
    rms_db = 10 * np.log10(np.maximum(mean, 1e-12))
    scaled = np.clip((rms_db - FLOOR_DB) / -FLOOR_DB, 0.0, 1.0) * 255
    return bytes(np.rint(scaled).astype(np.uint8))


def store(catalog: Catalog, track_id: int, pcm: np.ndarray) -> None:
    """Compute and keep the track's waveform (replacing one from an earlier ingest of its audio)."""
    catalog.execute("INSERT INTO waveforms (track_id, levels) VALUES (?, ?) "
                    "ON CONFLICT (track_id) DO UPDATE SET levels = excluded.levels", [track_id, levels(pcm)])


def encoded(raw: bytes | None) -> str | None:
    """A stored waveform as the manifest carries it."""
    return None if raw is None else base64.b64encode(raw).decode("ascii")


def fill_missing(catalog: Catalog, data_dir: Path, stop: threading.Event) -> None:
    """The upgrade step: the waveform of every track that has none, from its best origin copy."""
    rows = catalog.query("SELECT tracks.id FROM tracks LEFT JOIN waveforms ON waveforms.track_id = tracks.id "
                         "WHERE waveforms.id IS NULL ORDER BY tracks.id")
    for row in rows:
        if stop.is_set():
            return
        try:
            pcm, _rate = decoded_origin(catalog, data_dir, int(row["id"]))
        except (IngestError, OSError) as exc:
            _log.warning("track %s has no waveform: its origin copy cannot be decoded (%s)", row["id"], exc)
            continue
        store(catalog, int(row["id"]), pcm)
