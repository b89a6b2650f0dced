"""The trained model in the data dir: one file (``recs/model.npz``, arrays and the ANN index), replaced atomically,
and a per-process cache that reloads it when a newer one lands. A reader never sees half a model.
"""

from __future__ import annotations

import io
import logging
import struct
import threading
import zipfile
from pathlib import Path

import numpy as np

from durable import write_atomically
from server.recs.ann import TrackIndex
from server.recs.model import RecsModel, index_vectors

MODEL_FILE = Path("recs") / "model.npz"
_FORMAT = 2  # 2: a norm-ranged index (ann.py); a format 1 file's arrays are kept and its index is built anew
_log = logging.getLogger(__name__)


class ModelUnreadable(Exception):
    """The stored model cannot be read (corrupt or of another format); training again replaces it."""


def model_path(data_dir: Path) -> Path:
    return data_dir / MODEL_FILE


def save(data_dir: Path, model: RecsModel) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, format=np.array(_FORMAT), track_ids=model.track_ids, cf=model.cf, audio=model.audio,
             warm=model.warm, gram=model.gram, audio_mean=model.audio_mean, audio_spread=model.audio_spread,
             audio_to_cf=model.audio_to_cf,
             scalars=np.array([model.audio_scale, model.audio_weight]),
             marks=np.array([model.trained_ms, model.newest_received_ms], dtype=np.int64),
             index=np.frombuffer(model.index.to_bytes(), dtype=np.uint8))
    path = model_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, buffer.getvalue())


def load(data_dir: Path) -> RecsModel | None:
    """The stored model, or None when none was trained yet; ModelUnreadable when the file is damaged."""
    path = model_path(data_dir)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            stored_format = int(arrays["format"])
            if stored_format not in (1, _FORMAT):
                raise ModelUnreadable(f"{path} is of model format {stored_format}, not {_FORMAT}")
            audio_scale, audio_weight = (float(value) for value in arrays["scalars"][:2])
            trained_ms, newest_ms = (int(value) for value in arrays["marks"])
            if stored_format == 1:  # one MIPS transform over the catalog: built anew until training replaces it
                index = TrackIndex.build(arrays["track_ids"], index_vectors(arrays["cf"], arrays["audio"],
                                                                            audio_weight, audio_scale))
            else:
                index = TrackIndex.from_bytes(arrays["index"].tobytes())
            return RecsModel(arrays["track_ids"], arrays["cf"], arrays["audio"], arrays["warm"], arrays["gram"],
                             arrays["audio_mean"], arrays["audio_spread"], arrays["audio_to_cf"], audio_scale,
                             audio_weight, trained_ms, newest_ms, index)
    except (KeyError, ValueError, OSError, RuntimeError, struct.error, zipfile.BadZipFile) as exc:
        raise ModelUnreadable(f"{path} cannot be read ({exc}); train again with legato-server recs train") from exc


class ModelCache:
    """The current model of one data dir, reloaded when the file changes; shared by a process's threads."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._model: RecsModel | None = None

    def current(self) -> RecsModel | None:
        path = model_path(self._data_dir)
        try:
            status = path.stat()
            stamp: tuple[int, int] | None = (status.st_mtime_ns, status.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._model = load(self._data_dir)
                except ModelUnreadable:
                    _log.exception("keeping the previous recommendation model")
                self._stamp = stamp
            return self._model
