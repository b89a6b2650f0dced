"""Loudness normalisation: the gain that brings a track to -14 LUFS without pushing its peak past
-1 dBFS, and a limiter so that nothing clips whatever the gain. Runs on the worker, never the callback."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

TARGET_LUFS = -14.0
PEAK_CEILING_DBFS = -1.0
_CEILING = float(10 ** (PEAK_CEILING_DBFS / 20))
_BLOCK_FRAMES = 64
_RELEASE_PER_BLOCK = 0.002


def normalisation_gain(loudness_lufs: float | None, peak_dbfs: float | None) -> float:
    """Linear gain for a track of the given loudness; 1.0 when its loudness is unknown."""
    if loudness_lufs is None:
        return 1.0
    gain_db = TARGET_LUFS - loudness_lufs
    if peak_dbfs is not None:
        gain_db = min(gain_db, PEAK_CEILING_DBFS - peak_dbfs)
    return float(10 ** (gain_db / 20))


class Limiter:
    """Applies a gain and keeps every sample within -1 dBFS: instant attack per 64-frame block,
    linear gain changes between blocks, slow release. Its state carries across chunks and tracks."""

    def __init__(self) -> None:
        self._reduction = 1.0

    def reset(self) -> None:
        self._reduction = 1.0

    def apply(self, chunk: npt.NDArray[np.float32], gain: float) -> npt.NDArray[np.float32]:
        scaled = chunk * np.float32(gain)
        peaks = np.abs(scaled).max(axis=1)
        if self._reduction >= 1.0 and (len(peaks) == 0 or peaks.max() <= _CEILING):
            return scaled
        blocks = -(-len(peaks) // _BLOCK_FRAMES)
        padded = np.zeros(blocks * _BLOCK_FRAMES, np.float32)
        padded[:len(peaks)] = peaks
        needed = np.minimum(1.0, _CEILING / np.maximum(padded.reshape(blocks, _BLOCK_FRAMES).max(axis=1), 1e-9))
        starts = np.empty(blocks)
        ends = np.empty(blocks)
        reduction = self._reduction
        for block in range(blocks):
            starts[block] = reduction
            reduction = min(float(needed[block]), reduction + _RELEASE_PER_BLOCK)
            ends[block] = reduction
        self._reduction = reduction
        ramp = np.linspace(0.0, 1.0, _BLOCK_FRAMES, endpoint=False) + 1.0 / _BLOCK_FRAMES
        envelope = (starts[:, None] + (ends - starts)[:, None] * ramp).reshape(-1)[:len(peaks)]
        exact = np.minimum(1.0, _CEILING / np.maximum(peaks, 1e-9))
        scaled *= np.minimum(envelope, exact).astype(np.float32)[:, None]
        return scaled
