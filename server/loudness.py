"""Integrated loudness (EBU R128 / ITU-R BS.1770, via pyloudnorm) and sample peak of decoded PCM, of one track
in memory or of a whole album streamed through ``StreamingLoudness`` (never holding the album's PCM).
"""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import scipy.signal
from pyloudnorm.iirfilter import IIRfilter

# The BS.1770 absolute gate: anything quieter is reported as this floor rather than -inf.
LOUDNESS_FLOOR_LUFS = -70.0
PEAK_FLOOR_DBFS = -120.0
_GATING_BLOCK_S = 0.4
_BLOCK_STEP = 0.25  # blocks overlap by 75 %: a new block starts every 100 ms
_HOPS_PER_BLOCK = 4
_RELATIVE_GATE_LU = -10.0
_LOUDNESS_OFFSET = -0.691


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
    return dbfs(peak)


def dbfs(peak: float) -> float:
    """A linear sample peak in dBFS, never below the floor."""
    if peak <= 0.0:
        return PEAK_FLOOR_DBFS
    return max(20.0 * math.log10(peak), PEAK_FLOOR_DBFS)


class StreamingLoudness:
    """BS.1770 integrated loudness of PCM fed in pieces, equal to pyloudnorm's over the pieces concatenated.

    Keeps the K-weighting filters' state across pieces and only the energy of each 100 ms hop (summed over
    channels, every channel weighted 1 as for mono and stereo), so an hour of audio costs ~300 KB, not GBs.
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._stages = [IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sample_rate, "high_shelf"),
                        IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass")]
        self._states: list[np.ndarray] | None = None
        self._channels = 0
        self._frames = 0
        self._hops: list[float] = []
        self._hop_energy = 0.0

    def feed(self, pcm: np.ndarray) -> None:
        """Append ``pcm`` (frames x channels at ``sample_rate``); a change of channel count restarts the filters."""
        if pcm.shape[1] != self._channels or self._states is None:
            self._channels = pcm.shape[1]
            self._states = [np.zeros((2, self._channels)) for _ in self._stages]
        weighted = pcm.astype(np.float64)
        for index, stage in enumerate(self._stages):
            weighted, self._states[index] = scipy.signal.lfilter(stage.b, stage.a, weighted, axis=0,
                                                                 zi=self._states[index])
            weighted = weighted * stage.passband_gain
        self._add_energy(np.sum(np.square(weighted), axis=1))

    def _add_energy(self, energy: np.ndarray) -> None:
        taken = 0
        while taken < energy.shape[0]:
            next_hop = self._hop_start(len(self._hops) + 1)
            end = min(energy.shape[0], taken + next_hop - self._frames)
            self._hop_energy += float(np.sum(energy[taken:end]))
            self._frames += end - taken
            taken = end
            if self._frames == next_hop:
                self._hops.append(self._hop_energy)
                self._hop_energy = 0.0

    def _hop_start(self, hop: int) -> int:
        return int(_GATING_BLOCK_S * (hop * _BLOCK_STEP) * self.sample_rate)

    def integrated_lufs(self) -> float:
        """The gated loudness of everything fed so far (the floor when it is all below the absolute gate)."""
        seconds = self._frames / self.sample_rate
        blocks = max(int(np.round((seconds - _GATING_BLOCK_S) / (_GATING_BLOCK_S * _BLOCK_STEP))) + 1, 1)
        hops = np.zeros(blocks + _HOPS_PER_BLOCK)
        hops[:len(self._hops)] = self._hops[:hops.shape[0]]
        if len(self._hops) < hops.shape[0]:
            hops[len(self._hops)] = self._hop_energy
        window = np.convolve(hops, np.ones(_HOPS_PER_BLOCK), mode="valid")[:blocks]
        energies = window / (_GATING_BLOCK_S * self.sample_rate)
        with np.errstate(divide="ignore"):
            block_lufs = _LOUDNESS_OFFSET + 10.0 * np.log10(energies)
        above_absolute = energies[block_lufs >= LOUDNESS_FLOOR_LUFS]
        if above_absolute.size == 0:
            return LOUDNESS_FLOOR_LUFS
        relative_gate = _LOUDNESS_OFFSET + 10.0 * math.log10(float(np.mean(above_absolute))) + _RELATIVE_GATE_LU
        gated = energies[(block_lufs > relative_gate) & (block_lufs > LOUDNESS_FLOOR_LUFS)]
        if gated.size == 0:
            return LOUDNESS_FLOOR_LUFS
        lufs = _LOUDNESS_OFFSET + 10.0 * math.log10(float(np.mean(gated)))
        return lufs if lufs > LOUDNESS_FLOOR_LUFS else LOUDNESS_FLOOR_LUFS
