"""The demo-music arranger: styles and songs, the mix and its reverb, bar-by-bar rendering,
and whole studio tracks and the gapless live set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from server.synth.voices import (
    BASS_SAW,
    BASS_SINE,
    BASS_TRI,
    BELL,
    CHIP_LEAD,
    KEYS,
    PAD_SAW,
    PAD_SOFT,
    PIANO,
    PLUCK,
    SAMPLE_RATE,
    SAW_LEAD,
    Audio,
    Kit,
    Voice,
    band_noise,
    decay_hit,
    drum_kit,
)

_SR = SAMPLE_RATE


# ---------------------------------------------------------------- styles and songs

_MODES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10), "dorian": (0, 2, 3, 5, 7, 9, 10)}
# Scale degrees (0 = tonic) whose diatonic triads make a pleasant loop in that mode.
_PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (5, 3, 0, 4), (0, 5, 3, 4), (0, 3, 0, 4), (3, 4, 2, 5)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (5, 6, 0, 0), (0, 3, 5, 4)),
    "dorian": ((0, 3, 0, 3), (0, 6, 3, 0), (0, 2, 3, 6)),
}
# 16 steps per bar; X loud, x normal, o ghost.
_DRUMS = {
    "four": ("x...x...x...x...", "....x.......x...", "o.x.o.x.o.x.o.x."),
    "boom": ("x......x..x.....", "....x.......x..o", "x.x.x.x.x.x.x.x."),
    "chip": ("x...x...x...x.x.", "....x.......x...", "xoxoxoxoxoxoxoxo"),
    "wave": ("x...x...x...x...", "....X.......X...", "x.x.x.x.x.x.x.x."),
    "soft": ("x.......x.......", "................", "....o.......o..."),
}
_VELOCITY = {"X": 1.0, "x": 0.75, "o": 0.4}
# (step, gate in steps, semitones above the chord root)
_BASS_LINES = {
    "pulse": ((0, 3, 0), (4, 3, 0), (8, 3, 0), (12, 3, 0)),
    "offbeat": ((2, 2, 0), (6, 2, 0), (10, 2, 0), (14, 2, 12)),
    "walk": ((0, 6, 0), (6, 2, 7), (8, 4, 12), (12, 4, 7)),
    "long": ((0, 15, 0),),
    "octaves": tuple((s, 2, 0 if s % 4 == 0 else 12) for s in range(0, 16, 2)),
}


@dataclass(frozen=True)
class Style:
    genre: str
    tempo_bpm: tuple[float, float]
    modes: tuple[str, ...]
    bars_per_chord: int
    pad: Voice | None
    comp: tuple[tuple[Voice, str], ...]  # (voice, "arp8" | "arp16" | "stabs") options
    leads: tuple[Voice, ...]
    bass: Voice
    bass_lines: tuple[str, ...]
    drums: tuple[str, ...]
    tight_kit: bool
    swing: float  # fraction of a step the off-sixteenths are late
    room: float  # reverb send
    drive: float  # tanh saturation (0 = none): louder, denser tracks
    melody_density: float


LIVE_STYLE = Style("Electronic", (118, 124), ("minor", "dorian"), 1, PAD_SOFT,
                     ((KEYS, "stabs"), (PLUCK, "arp16")), (PLUCK, BELL, SAW_LEAD), BASS_SINE,
                     ("offbeat", "pulse"), ("four",), False, 0.0, 0.35, 1.2, 0.5)
STUDIO_STYLES = (
    Style("Ambient", (64, 76), ("major", "dorian"), 2, PAD_SOFT, ((BELL, "arp8"),), (BELL,),
           BASS_SINE, ("long",), ("soft",), False, 0.0, 0.6, 0.0, 0.3),
    Style("Lo-Fi Hip Hop", (76, 88), ("dorian", "major"), 1, None, ((KEYS, "stabs"),), (KEYS, PLUCK),
           BASS_SINE, ("walk",), ("boom",), False, 0.3, 0.3, 1.8, 0.45),
    Style("Chiptune", (132, 150), ("major", "minor"), 1, None, ((CHIP_LEAD, "arp16"),), (CHIP_LEAD,),
           BASS_TRI, ("octaves", "pulse"), ("chip",), True, 0.0, 0.1, 1.0, 0.7),
    Style("Classical", (66, 84), ("major", "minor"), 1, None, ((PIANO, "arp8"),), (PIANO,),
           BASS_SINE, ("long",), (), False, 0.0, 0.45, 0.0, 0.55),
    Style("Synthwave", (96, 110), ("minor",), 1, PAD_SAW, ((PLUCK, "arp16"),), (SAW_LEAD,),
           BASS_SAW, ("octaves", "pulse"), ("wave",), False, 0.0, 0.4, 2.2, 0.4),
)


@dataclass(frozen=True)
class _Song:
    style: Style
    bpm: float
    tonic: int  # MIDI note of the key centre, around C3-G3
    scale: tuple[int, ...]
    progression: tuple[int, ...]
    motif: tuple[tuple[int, int, int], ...]  # (step in 2 bars, gate in steps, degree above chord root)
    lead: Voice
    comp: tuple[Voice, str]
    bass_line: str
    drums: str
    drum_gain: float
    lead_pan: float

    def bar_frames(self) -> float:
        return 240.0 / self.bpm * _SR

    def midi(self, degree: int, octave: int = 0) -> int:
        return self.tonic + 12 * (octave + degree // 7) + self.scale[degree % 7]

    def chord_root(self, bar: int) -> int:
        return self.progression[(bar // self.style.bars_per_chord) % len(self.progression)]


def _motif(rng: np.random.Generator, density: float) -> tuple[tuple[int, int, int], ...]:
    steps = [s for s in range(0, 28, 2) if s == 0 or rng.random() < density]
    notes, degree = [], int(rng.choice([0, 2, 4]))
    for i, step in enumerate(steps):
        following = steps[i + 1] if i + 1 < len(steps) else 30
        if step % 8 == 0:  # strong beats land on a chord tone
            degree = min((-3, 0, 2, 4, 7, 9), key=lambda tone: abs(tone - degree))
        notes.append((step, min(following - step, 6), degree))
        degree = int(np.clip(degree + rng.choice([-2, -1, -1, 0, 1, 1, 2]), -3, 9))
    return tuple(notes)


def _song(rng: np.random.Generator, style: Style, bpm: float | None = None, tonic: int | None = None) -> _Song:
    """A song in ``style``; a live set passes one ``bpm`` and ``tonic`` so its songs can segue."""
    mode = str(rng.choice(style.modes))
    progressions = _PROGRESSIONS[mode]
    return _Song(
        style, float(rng.uniform(*style.tempo_bpm)) if bpm is None else bpm,
        int(rng.integers(48, 56)) if tonic is None else tonic,
        _MODES[mode], progressions[int(rng.integers(len(progressions)))],
        _motif(rng, style.melody_density), style.leads[int(rng.integers(len(style.leads)))],
        style.comp[int(rng.integers(len(style.comp)))], str(rng.choice(style.bass_lines)),
        str(rng.choice(style.drums)) if style.drums else "", float(rng.uniform(0.7, 1.3)),
        float(rng.uniform(-0.35, 0.35)),
    )


# ---------------------------------------------------------------- mixing and arrangement

class _Mix:
    """A planar stereo canvas (2, frames) plus a mono reverb send; each note is rendered once."""

    def __init__(self, frames: int, echo_frames: int) -> None:
        self.dry = np.zeros((2, frames), dtype=np.float32)
        self.send = np.zeros(frames, dtype=np.float32)
        self.echo_frames = echo_frames
        self._notes: dict[tuple[Voice, int, int], Audio] = {}

    def add(self, start: int, sound: Audio, gain: float, pan: float, send: float) -> None:
        part = sound[:max(0, len(self.send) - start)]
        end = start + len(part)
        theta = (pan + 1) * math.pi / 4  # equal-power panning
        self.dry[0, start:end] += np.float32(gain * math.cos(theta)) * part
        self.dry[1, start:end] += np.float32(gain * math.sin(theta)) * part
        if send > 0:
            self.send[start:end] += np.float32(gain * send) * part

    def add_loop(self, loop: Audio, gain: float, send: float) -> None:
        """Repeat a planar stereo ``loop`` over the whole canvas without materialising the repeats."""
        length, whole = loop.shape[1], len(self.send) // loop.shape[1] * loop.shape[1]
        scaled = np.float32(gain) * loop
        self.dry[:, :whole].reshape(2, -1, length)[...] += scaled[:, None, :]
        self.dry[:, whole:] += scaled[:, :len(self.send) - whole]
        mono = np.float32(send) * scaled.sum(axis=0)
        self.send[:whole].reshape(-1, length)[...] += mono
        self.send[whole:] += mono[:len(self.send) - whole]

    def note(self, voice: Voice, midi: int, gate: int) -> Audio:
        key = (voice, midi, gate)
        if key not in self._notes:
            self._notes[key] = voice.render(midi, gate, self.echo_frames)
        return self._notes[key]

    def master(self) -> Audio:
        """The dry mix with the reverb added in place (the canvas is spent afterwards)."""
        left_right = _reverb(self.send)
        self.dry += left_right[0] + left_right[1]
        self.dry[1] -= np.float32(2) * left_right[1]
        return self.dry


_COMB_DELAYS = (1031, 1307, 1523, 1759, 1999, 2297)  # ~23-52 ms, mutually prime: no common echo


def _reverb(send: Audio) -> Audio:
    """A soft room from parallel feedback combs; returns the sums of the even and odd combs.

    Each comb y[n] = x[n] + g*y[n-D] runs a block of D samples at a time. Left is even + odd and
    right is even - odd, which decorrelates the channels.
    """
    n = len(send)
    damped = send.copy()
    damped[1:] += send[:-1]
    damped[2:] += send[:-2]  # a 3-tap average takes the fizz off the tail
    work = np.zeros(n + max(_COMB_DELAYS), dtype=np.float32)
    sums = np.zeros((2, n), dtype=np.float32)
    for i, delay in enumerate(_COMB_DELAYS):
        blocks = -(-n // delay)
        work[:n] = damped
        work[n:] = 0
        rows = work[:blocks * delay].reshape(blocks, delay)
        for b in range(1, blocks):
            rows[b] += np.float32(0.8) * rows[b - 1]
        sums[i % 2] += work[:n]
    sums -= np.float32(len(_COMB_DELAYS) // 2) * damped  # keep only the reflections
    sums *= np.float32(0.08)
    return sums


@dataclass(frozen=True)
class _Parts:
    bass: bool
    kick: bool
    snare: bool
    hats: bool
    melody: bool


def _parts(fraction: float, live: bool) -> _Parts:
    """Song shape by position: intro, verse, melody section, outro (the live beat never stops)."""
    intro, outro = fraction < 0.125, fraction >= 0.875
    middle = not (intro or outro)
    return _Parts(not intro, live or middle, middle, not outro, 0.25 <= fraction < 0.875)


def _voiced(midi: int, centre: int) -> int:
    return centre - 6 + (midi - centre + 6) % 12


def _play_bar(mix: _Mix, rng: np.random.Generator, song: _Song, kit: Kit, bar: int, start: float,
              parts: _Parts) -> None:
    style, step = song.style, song.bar_frames() / 16
    root = song.chord_root(bar)
    chord = [_voiced(song.midi(root + i), 62) for i in (0, 2, 4)]

    def at(s: int) -> int:
        return int(start + (s + (style.swing if s % 2 else 0.0)) * step)

    if style.pad is not None and bar % style.bars_per_chord == 0:
        for pan, midi in zip((-0.4, 0.0, 0.4), chord, strict=False):
            gate = int(song.bar_frames() * style.bars_per_chord)
            mix.add(at(0), mix.note(style.pad, midi, gate), 0.16, pan, style.room)
    voice, kind = song.comp
    tones = [*sorted(chord), min(chord) + 12]
    hits = {"arp8": [(s, 2, tones[i % 4:i % 4 + 1]) for i, s in enumerate(range(0, 16, 2))],
            "arp16": [(s, 1, tones[s * 3 % 4:s * 3 % 4 + 1]) for s in range(16)],
            "stabs": [(s, 3, tones[:3]) for s in (0, 6, 10)]}[kind]
    for s, gate, midis in hits:
        for midi in midis:
            pan = 0.5 * (midi - tones[1]) / 12 - 0.2  # low notes left, high notes right, like a keyboard
            mix.add(at(s), mix.note(voice, midi, int(gate * step)), 0.12, pan, style.room)
    if parts.bass:
        bass_root = _voiced(song.midi(root), 42)
        for s, gate, semis in _BASS_LINES[song.bass_line]:
            mix.add(at(s), mix.note(style.bass, bass_root + semis, int(gate * step)), 0.45, 0.0, 0.05)
    if song.drums:
        kick, snare, hats = _DRUMS[song.drums]
        for pattern, sound, gain, pan, play in ((kick, kit.kick, 0.8, 0.0, parts.kick),
                                                (snare, kit.snare, 0.4, 0.1, parts.snare),
                                                (hats, kit.hat, 0.15, 0.3, parts.hats)):
            for s, mark in enumerate(pattern):
                if play and mark != ".":
                    velocity = _VELOCITY[mark] * rng.uniform(0.85, 1.0)
                    mix.add(at(s), sound, gain * velocity * song.drum_gain, pan, style.room * 0.3)
    if parts.melody:
        for s, gate, degree in song.motif:
            if s // 16 == bar % 2:
                note = mix.note(song.lead, song.midi(root + degree, octave=1), int(gate * step))
                mix.add(at(s % 16), note, 0.2, song.lead_pan, style.room)


def _fade(pcm: Audio, fade_in: int, fade_out: int) -> None:
    pcm[:, :fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)
    pcm[:, pcm.shape[1] - fade_out:] *= 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, fade_out, dtype=np.float32))


def _finish(pcm: Audio, rng: np.random.Generator, drive: float) -> Audio:
    """Saturate (for loudness) and set the peak between -3 and -1 dBFS."""
    pcm /= np.max(np.abs(pcm))
    if drive > 0:
        pcm = np.tanh(np.float32(drive) * pcm)
        pcm /= np.max(np.abs(pcm))
    pcm *= np.float32(10 ** (-rng.uniform(1.0, 3.0) / 20))
    return pcm


def track_lengths(rng: np.random.Generator, tracks: int, seconds: float) -> list[int]:
    return [round(seconds * rng.uniform(0.8, 1.2) * _SR) for _ in range(tracks)]


def studio_track(rng: np.random.Generator, style: Style, frames: int) -> Audio:
    song = _song(rng, style)
    bar = song.bar_frames()
    mix = _Mix(frames, int(bar * 3 / 16))
    kit = drum_kit(rng, style.tight_kit)
    bars = math.ceil(frames / bar)
    for b in range(bars):
        _play_bar(mix, rng, song, kit, b, b * bar, _parts(b / bars, live=False))
    pcm = mix.master()
    _fade(pcm, int(0.02 * _SR), int(min(4.0 * _SR, 0.25 * frames)))
    return _finish(pcm, rng, style.drive)


# ---------------------------------------------------------------- the live set

_LOOP_S = 8  # drone partials are tuned to whole cycles per loop, so tiling it is seamless


def _drone_loop(tonic: int) -> Audio:
    t = np.arange(_LOOP_S * _SR) / _SR
    loop = np.zeros((2, len(t)))
    for midi, amp in ((tonic - 12, 0.5), (tonic - 5, 0.3), (tonic, 0.22), (tonic + 7, 0.1)):
        hz = round(440.0 * 2 ** ((midi - 69) / 12) * _LOOP_S) / _LOOP_S
        for channel, beat_hz in ((0, 0.25), (1, -0.375)):
            loop[channel] += amp * (np.sin(2 * np.pi * hz * t) + np.sin(2 * np.pi * (hz + beat_hz) * t))
    return (loop * (0.8 + 0.2 * np.sin(2 * np.pi * t / _LOOP_S))).astype(np.float32)


def _murmur_loop(rng: np.random.Generator) -> Audio:
    # FFT-shaped noise is periodic in its length, so the repeated bed has no seam.
    return np.array([band_noise(rng, 2**19, 200, 1500) for _ in range(2)])


def _applause(mix: _Mix, rng: np.random.Generator, claps: list[Audio], first: int, width: int) -> None:
    """A swell of hand claps (short bursts of band-passed noise) over ``width`` frames."""
    times = np.sort(rng.uniform(first, first + width, int(60 * width / _SR)))
    for i, time in enumerate(times):
        swell = math.sin(math.pi * (time - first) / width) ** 1.5
        mix.add(int(time), claps[i % len(claps)], 0.2 * swell * rng.uniform(0.4, 1.0),
                rng.uniform(-0.8, 0.8), 0.5)


def live_set(rng: np.random.Generator, seconds: float) -> list[Audio]:
    """One continuous performance, cut into tracks where the songs change hands."""
    lengths = track_lengths(rng, int(rng.integers(4, 6)), seconds)
    cuts = np.cumsum(lengths)
    total = int(cuts[-1])
    style = LIVE_STYLE
    first_song = _song(rng, style)
    songs = [first_song] + [_song(rng, style, first_song.bpm, first_song.tonic) for _ in lengths[1:]]
    bar = first_song.bar_frames()
    mix = _Mix(total, int(bar * 3 / 16))
    kit = drum_kit(rng, style.tight_kit)
    song_bars = [math.ceil(edge / bar) for edge in (0, *cuts)]
    for b in range(math.ceil(total / bar)):
        k = int(np.searchsorted(cuts, b * bar, side="right"))
        span = max(1, song_bars[k + 1] - song_bars[k])
        _play_bar(mix, rng, songs[k], kit, b - song_bars[k], b * bar, _parts((b - song_bars[k]) / span, live=True))
    mix.add_loop(_drone_loop(first_song.tonic), 0.07, 0.5)
    mix.add_loop(_murmur_loop(rng), 0.02, 0.0)
    claps = [decay_hit(band_noise(rng, int(0.03 * _SR), lo, 3 * lo), 0.007, 0.0005)
             for lo in rng.uniform(600, 1400, 8)]
    for k, cut in enumerate(cuts):
        width = int(min(6.0 * _SR, 0.4 * min(lengths[k:k + 2])))
        _applause(mix, rng, claps, int(cut) - width * 3 // 5, width)
    pcm = mix.master()
    _fade(pcm, int(min(1.0 * _SR, 0.1 * lengths[0])), int(min(3.0 * _SR, 0.1 * lengths[-1])))
    pcm = _finish(pcm, rng, style.drive)
    return [pcm[:, start:end] for start, end in zip((0, *cuts[:-1]), cuts, strict=True)]

