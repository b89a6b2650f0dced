"""A track's audio vector from its decoded PCM: tempo, key, loudness and spectral shape, in a few tens of ms.

Pure numpy on at most a minute from the middle of the track; it never reads files or the catalog.
"""

from __future__ import annotations

import numpy as np

FEATURES_VERSION = 1
_ANALYSED_S = 60.0
_FRAME = 2048
_HOP = 1024
_BANDS = 16
_TEMPO_RANGE_BPM = (60.0, 200.0)
# Krumhansl-Kessler key profiles (major, minor), tonic first.
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
FEATURE_NAMES: tuple[str, ...] = (
    *(f"band{i}_mean" for i in range(_BANDS)), *(f"band{i}_std" for i in range(_BANDS)),
    "centroid_mean", "centroid_std", "rolloff_mean", "flatness_mean", "zero_crossings",
    "rms_db_mean", "dynamic_range_db", "log2_tempo_bpm", "pulse_clarity",
    "key_fifths_cos", "key_fifths_sin", "major", "key_strength",
)
DIMENSION = len(FEATURE_NAMES)


def audio_vector(pcm: np.ndarray, sample_rate: int) -> np.ndarray:
    """The raw (unscaled) feature vector of PCM shaped (frames, channels) or (frames,); float32, DIMENSION long."""
    mono = np.asarray(pcm, dtype=np.float32)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    mono = _middle(mono, int(_ANALYSED_S * sample_rate))
    if mono.size < _FRAME * 4:
        mono = np.pad(mono, (0, _FRAME * 4 - mono.size))
    frames = np.lib.stride_tricks.sliding_window_view(mono, _FRAME)[::_HOP]
    power = np.abs(np.fft.rfft(frames * np.hanning(_FRAME).astype(np.float32), axis=1)) ** 2 + 1e-12
    freqs = np.fft.rfftfreq(_FRAME, 1.0 / sample_rate)
    bands = _band_energies_db(power, freqs)
    total = power.sum(axis=1)
    centroid = (power * freqs).sum(axis=1) / total
    cumulative = np.cumsum(power, axis=1)
    rolloff = freqs[np.argmax(cumulative >= 0.85 * cumulative[:, -1:], axis=1)]
    flatness = np.exp(np.log(power).mean(axis=1)) / power.mean(axis=1)
    rms_db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    crossings = np.mean(np.abs(np.diff(np.signbit(mono).astype(np.int8)))) * sample_rate / 1000.0
    tempo_bpm, clarity = _tempo(power, sample_rate)
    fifths_angle, major, strength = _key(power, freqs)
    nyquist = sample_rate / 2
    vector = [*bands.mean(axis=0), *bands.std(axis=0),
              centroid.mean() / nyquist, centroid.std() / nyquist, rolloff.mean() / nyquist, flatness.mean(),
              crossings, rms_db.mean(), np.percentile(rms_db, 95) - np.percentile(rms_db, 10),
              np.log2(tempo_bpm), clarity, np.cos(fifths_angle), np.sin(fifths_angle), major, strength]
    return np.nan_to_num(np.asarray(vector, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)


def _middle(mono: np.ndarray, frames: int) -> np.ndarray:
    if mono.size <= frames:
        return mono
    start = (mono.size - frames) // 2
    return mono[start:start + frames]


def _band_energies_db(power: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    edges = np.geomspace(40.0, min(16000.0, freqs[-1]), _BANDS + 1)
    which = np.clip(np.searchsorted(edges, freqs) - 1, -1, _BANDS)
    energies = np.stack([power[:, which == band].sum(axis=1) if np.any(which == band) else np.full(len(power), 1e-12)
                         for band in range(_BANDS)], axis=1)
    return np.asarray(10 * np.log10(energies + 1e-12))


def _tempo(power: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """The strongest beat period in the onset envelope (positive spectral flux), and how clear it is (0..1)."""
    log_power = np.log1p(power[:, : power.shape[1] // 2] * 1e3)
    flux = np.maximum(np.diff(log_power, axis=0), 0).sum(axis=1)
    flux = flux - flux.mean()
    frame_rate = sample_rate / _HOP
    lags = np.arange(max(1, int(frame_rate * 60 / _TEMPO_RANGE_BPM[1])),
                     max(2, int(frame_rate * 60 / _TEMPO_RANGE_BPM[0])) + 1)
    energy = float(np.dot(flux, flux))
    if energy <= 0 or flux.size <= lags[-1]:
        return 120.0, 0.0
    correlation = np.array([np.dot(flux[:-lag], flux[lag:]) for lag in lags]) / energy
    best = int(np.argmax(correlation))
    return float(60 * frame_rate / lags[best]), float(np.clip(correlation[best], 0.0, 1.0))


def _key(power: np.ndarray, freqs: np.ndarray) -> tuple[float, float, float]:
    """The best-matching key as its angle on the circle of fifths, major (1) or minor (0), and the match (r)."""
    audible = (freqs >= 55.0) & (freqs <= 2000.0)
    pitch_class = np.round(12 * np.log2(freqs[audible] / 440.0)).astype(int) % 12
    chroma = np.bincount(pitch_class, weights=np.sqrt(power[:, audible]).sum(axis=0), minlength=12)
    if not chroma.any():
        return 0.0, 1.0, 0.0
    scores = [(np.corrcoef(np.roll(profile, tonic), chroma)[0, 1], tonic, mode)
              for mode, profile in ((1.0, _MAJOR), (0.0, _MINOR)) for tonic in range(12)]
    score, tonic, mode = max(scores)
    tonic_from_a = (tonic + 9) % 12  # pitch classes count from A; the circle of fifths from C
    return 2 * np.pi * ((tonic_from_a * 7) % 12) / 12, mode, float(np.nan_to_num(score))
