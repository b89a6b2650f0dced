"""Integrated loudness (EBU R128 / ITU-R BS.1770, via pyloudnorm) and sample peak of decoded PCM."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm

# The BS.1770 absolute gate: anything quieter is reported as this floor rather than -inf.
LOUDNESS_FLOOR_LUFS = -70.0
PEAK_FLOOR_DBFS = -120.0
_GATING_BLOCK_S = 0.4


def integrated_loudness_lufs(pcm: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness of ``pcm`` (frames x channels, float in [-1, 1]) in LUFS.

    Clips shorter than one 400 ms gating block are padded with silence so they still get a figure.
    """
    min_frames = math.ceil(_GATING_BLOCK_S * sample_rate) + 1
    if pcm.shape[0] < min_frames:
        pcm = np.concatenate([pcm, np.zeros((min_frames - pcm.shape[0], pcm.shape[1]), pcm.dtype)])
    meter = pyloudnorm.Meter(sample_rate)
    lufs = float(meter.integrated_loudness(pcm.astype(np.float64)))
    return lufs if math.isfinite(lufs) and lufs > LOUDNESS_FLOOR_LUFS else LOUDNESS_FLOOR_LUFS


def sample_peak_dbfs(pcm: np.ndarray) -> float:
    """The largest absolute sample value in dBFS (0 dBFS = full scale)."""
    peak = float(np.max(np.abs(pcm))) if pcm.size else 0.0
    if peak <= 0.0:
        return PEAK_FLOOR_DBFS
    return max(20.0 * math.log10(peak), PEAK_FLOOR_DBFS)
