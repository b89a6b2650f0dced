"""Helpers for the engine's tests: run an engine on a render sink and collect what it did."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from player import (
    Engine,
    Event,
    Position,
    QueueFinished,
    QueueItem,
    RenderSink,
    TrackStarted,
)
from player.wav import read_wav

TIMEOUT_S = 30.0
RAMP_MS = 8.0  # the engine's default gain ramp (Engine's ramp_ms)


@dataclass
class Recorder:
    """A listener that keeps every event, and the engine's position at each TrackStarted."""

    engine: Engine | None = None
    events: list[Event] = field(default_factory=list)
    positions_at_start: list[Position] = field(default_factory=list)
    finished: threading.Event = field(default_factory=threading.Event)

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, TrackStarted) and self.engine is not None:
            self.positions_at_start.append(self.engine.position())
        if isinstance(event, QueueFinished):
            self.finished.set()

    def of_type(self, kind: type) -> list[Event]:
        return [event for event in self.events if isinstance(event, kind)]


def start_engine(out: Path, *, manual: bool = False, rate: int | None = None,
                 subtype: str = "float32") -> tuple[Engine, RenderSink, Recorder]:
    recorder = Recorder()
    sink = RenderSink(out, rate, "pcm16" if subtype == "pcm16" else "float32", manual=manual)
    engine = Engine(sink, recorder)
    recorder.engine = engine
    return engine, sink, recorder


def render(items: list[QueueItem], out: Path, *, rate: int | None = None,
           subtype: str = "float32") -> tuple[npt.NDArray[np.float32], int, Recorder]:
    """Play `items` to the end through a render sink; the WAV's frames and rate, and the events."""
    engine, _, recorder = start_engine(out, rate=rate, subtype=subtype)
    engine.set_queue(items)
    engine.play()
    assert recorder.finished.wait(TIMEOUT_S), f"the queue did not finish; events: {recorder.events}"
    engine.close()
    frames, wav_rate = read_wav(out)
    return frames, wav_rate, recorder


def as_float(pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
    return (pcm / np.float32(32768.0)).astype(np.float32)


def ramp_frames(rate: int) -> int:
    """Frames of one full fade (in, out, or a volume step) at `rate`, with the engine's default ramp."""
    return int(np.ceil(RAMP_MS / 1000 * rate))


def assert_faded_in(heard: npt.NDArray[np.float32], expected: npt.NDArray[np.float32], rate: int) -> None:
    """`heard` is `expected` faded in from near silence over one ramp (no click), then bit-exact."""
    ramp = ramp_frames(rate)
    assert len(heard) == len(expected)
    assert np.abs(heard[0]).max() <= np.abs(expected[0]).max() / ramp * 1.01 + 1e-6, "the first frame is a step"
    assert np.all(np.abs(heard[:ramp]) <= np.abs(expected[:ramp]) + 1e-7)
    np.testing.assert_array_equal(heard[ramp:], expected[ramp:])


def best_lag(output: npt.NDArray[np.float32], reference: npt.NDArray[np.float32], at: int,
             span: int = 4096, search: int = 64) -> int:
    """The shift of `output` against `reference` around frame `at` that matches best."""
    window = reference[at:at + span, 0]
    errors = {lag: float(np.abs(output[at + lag:at + lag + span, 0] - window).mean())
              for lag in range(-min(search, at), search + 1)}
    return min(errors, key=lambda lag: errors[lag])
