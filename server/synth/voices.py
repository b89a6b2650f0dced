"""The instruments of the demo-music synthesizer: band-limited oscillators, envelopes and noise,
the pitched voice presets, and the drum kit.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 44100
_SR = SAMPLE_RATE
# No partial is synthesised above this: nothing can alias, and the top end stays soft.
_MAX_PARTIAL_HZ = 9000.0
_TABLE_SIZE = 4096

Audio = NDArray[np.float32]


# ---------------------------------------------------------------- oscillators and envelopes

def _partials(freq: float, n: int, ratios: tuple[float, ...], amps: tuple[float, ...],
              decays: tuple[float, ...]) -> Audio:
    """Additive tone: each partial its own sine with its own exponential decay (per second)."""
    t = np.arange(n, dtype=np.float32) / np.float32(_SR)
    out = np.zeros(n, dtype=np.float32)
    for ratio, amp, decay in zip(ratios, amps, decays, strict=False):
        if freq * ratio < _MAX_PARTIAL_HZ:
            out += amp * np.exp(-decay * t) * np.sin(np.float32(2 * math.pi * freq * ratio) * t)
    return out


@functools.lru_cache(maxsize=64)
def _wavetable(shape: str, harmonics: int) -> Audio:
    """One band-limited cycle (plus a wrap sample), built in the frequency domain."""
    k = np.arange(1, harmonics + 1)
    amps = {"saw": 1.0 / k, "square": np.where(k % 2 == 1, 1.0 / k, 0.0),
            "triangle": np.where(k % 2 == 1, (-1.0) ** ((k - 1) // 2) / k**2, 0.0),
            "soft": 1.0 / k**2}[shape]
    spectrum = np.zeros(_TABLE_SIZE // 2 + 1, dtype=np.complex128)
    spectrum[1:harmonics + 1] = -1j * amps * _TABLE_SIZE / 2
    cycle = np.fft.irfft(spectrum, _TABLE_SIZE)
    cycle /= np.max(np.abs(cycle))
    return np.append(cycle, cycle[0]).astype(np.float32)


def _table_tone(shape: str, freq: float, n: int, max_hz: float = _MAX_PARTIAL_HZ) -> Audio:
    table = _wavetable(shape, max(1, int(min(max_hz, _MAX_PARTIAL_HZ) // freq)))
    pos = (np.arange(n) * (freq / _SR) % 1.0) * _TABLE_SIZE
    index = pos.astype(np.int64)
    frac = (pos - index).astype(np.float32)
    return table[index] + frac * (table[index + 1] - table[index])


def _envelope(n: int, gate: int, attack_s: float, decay_s: float, sustain: float) -> Audio:
    """ADSR: linear attack and decay, hold at ``sustain`` until ``gate``, release to 0 at ``n``."""
    attack = max(1, int(attack_s * _SR))
    knee = attack + max(1, int(decay_s * _SR))
    points = [0, attack, knee, max(gate, knee), max(n - 1, knee + 1)]
    return np.interp(np.arange(n), points, [0.0, 1.0, sustain, sustain, 0.0]).astype(np.float32)


def band_noise(rng: np.random.Generator, n: int, low_hz: float, high_hz: float) -> Audio:
    """White noise shaped in the frequency domain: a gentle low edge, a steep high one."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / _SR), 1.0)
    spectrum *= 1 / (1 + (low_hz / f) ** 4) / (1 + (f / high_hz) ** 10)
    noise = np.fft.irfft(spectrum, n)
    noise /= np.max(np.abs(noise))
    return noise.astype(np.float32)


def decay_hit(noise: Audio, decay_s: float, attack_s: float = 0.001) -> Audio:
    """A percussive hit: a short ramp in (no click), then an exponential decay."""
    t = np.arange(len(noise), dtype=np.float32) / _SR
    return noise * np.minimum(t / attack_s, 1.0) * np.exp(-t / decay_s)


# ---------------------------------------------------------------- instruments

@dataclass(frozen=True)
class Voice:
    """A pitched instrument: a tone generator shaped by an ADSR, optionally echoed."""

    tone: Callable[[float, int], Audio]
    attack_s: float
    decay_s: float
    sustain: float
    release_s: float
    echo: float = 0.0  # feedback of a dotted-eighth echo baked into each note

    def render(self, midi: int, gate: int, echo_frames: int) -> Audio:
        n = gate + int(self.release_s * _SR)
        tone = self.tone(440.0 * 2 ** ((midi - 69) / 12), n)
        note = tone * _envelope(n, gate, self.attack_s, self.decay_s, self.sustain)
        if self.echo <= 0:
            return note
        repeats = 3
        out = np.zeros(n + repeats * echo_frames, dtype=np.float32)
        for r in range(repeats + 1):
            out[r * echo_frames:r * echo_frames + n] += self.echo**r * note
        return out


def _detuned(shape: str, max_hz: float, cents: float) -> Callable[[float, int], Audio]:
    ratio = 2 ** (cents / 1200)
    return lambda f, n: 0.5 * (_table_tone(shape, f * ratio, n, max_hz) + _table_tone(shape, f / ratio, n, max_hz))


def _piano(f: float, n: int) -> Audio:
    k = np.arange(1, 9)
    ratios = tuple(float(x) for x in k * np.sqrt(1 + 0.0004 * k**2))
    return _partials(f, n, ratios, tuple(float(x) for x in 1 / k**1.4), tuple(float(x) for x in 0.9 + 0.7 * k))


PAD_SOFT = Voice(_detuned("soft", 3000, 7), 0.5, 0.5, 0.8, 0.9)
PAD_SAW = Voice(_detuned("saw", 2500, 9), 0.25, 0.6, 0.6, 0.6)
PIANO = Voice(_piano, 0.003, 0.1, 1.0, 0.35)
KEYS = Voice(lambda f, n: _partials(f, n, (1, 2, 3, 14), (1, 0.3, 0.08, 0.04), (1.8, 3, 5, 25)),
               0.004, 0.2, 0.8, 0.25)
PLUCK = Voice(lambda f, n: _partials(f, n, (1, 2, 3, 4, 5), (1, 0.5, 0.3, 0.18, 0.1), (6, 9, 12, 16, 20)),
                0.002, 0.1, 1.0, 0.2, echo=0.35)
BELL = Voice(lambda f, n: _partials(f, n, (1, 2, 2.76, 5.4, 8.93), (1, 0.4, 0.5, 0.2, 0.1), (1.2, 1.8, 2.2, 4, 6)),
               0.002, 0.1, 1.0, 0.8, echo=0.45)
CHIP_LEAD = Voice(lambda f, n: _table_tone("square", f, n, 7000), 0.004, 0.08, 0.55, 0.06, echo=0.25)
SAW_LEAD = Voice(_detuned("saw", 5000, 6), 0.01, 0.2, 0.7, 0.25, echo=0.4)
BASS_SINE = Voice(lambda f, n: _partials(f, n, (1, 2, 3), (1, 0.35, 0.12), (0.8, 1.5, 3)), 0.006, 0.2, 0.8, 0.08)
BASS_TRI = Voice(lambda f, n: _table_tone("triangle", f, n, 4000), 0.004, 0.05, 0.9, 0.04)
BASS_SAW = Voice(lambda f, n: _table_tone("saw", f, n, 900), 0.005, 0.15, 0.6, 0.08)


@dataclass(frozen=True)
class Kit:
    kick: Audio
    snare: Audio
    hat: Audio


def drum_kit(rng: np.random.Generator, tight: bool) -> Kit:
    t = np.arange(int(0.45 * _SR)) / _SR
    low_hz = rng.uniform(42, 52)
    sweep_hz = low_hz + 110 * np.exp(-t / 0.035)  # the pitch drop is what makes a sine a kick
    kick = decay_hit(np.sin(2 * np.pi * np.cumsum(sweep_hz) / _SR).astype(np.float32), 0.22, 0.002)
    body = np.sin(2 * np.pi * rng.uniform(170, 200) * t[:int(0.25 * _SR)]).astype(np.float32)
    rattle = band_noise(rng, len(body), 1200, 7000)
    snare = decay_hit(0.5 * body, 0.05) + decay_hit(0.8 * rattle, 0.09 if tight else 0.14)
    hat = decay_hit(band_noise(rng, int(0.12 * _SR), 6500, 11000), 0.018 if tight else 0.035)
    return Kit(kick, snare, hat)

