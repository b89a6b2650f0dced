"""The app's own playback path rendered and measured: a PlaybackController logged in to a server, into a render
sink, and the normalisation gain it applied (against the same tracks rendered with normalisation off)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from client.api import ApiClient
from client.catalog import Track
from client.playback import GainMode, PlaybackController, PlayQueue
from player import RenderSink
from player.wav import read_wav

WaitUntil = Callable[[Callable[[], bool]], None]  # returns once the condition holds, processing Qt events meanwhile


@dataclass(frozen=True)
class Rendered:
    frames: npt.NDArray[np.float32]
    rate: int
    order: list[Track]  # in the order they started


def play_through_controller(wait_until: WaitUntil, server_url: str, login: tuple[str, str], tracks: list[Track],
                            out: Path, *,
                            normalise: bool, mode: GainMode = "auto", shuffle_seed: int | None = None,
                            crossfade_s: float = 0.0) -> Rendered:
    """Play ``tracks`` to the end through a real PlaybackController (lossless files) into a WAV at ``out``."""
    api = ApiClient(server_url)
    api.login(*login)
    playback = PlaybackController(api, RenderSink(out), quality="lossless")
    states: list[str] = []
    order: list[Track] = []
    playback.state_changed.connect(states.append)
    playback.track_changed.connect(order.append)
    try:
        if shuffle_seed is not None:
            playback.queue = PlayQueue(random.Random(shuffle_seed))
            playback.set_shuffle(True)
        playback.engine.set_normalisation(normalise)
        playback.engine.set_crossfade(crossfade_s)
        playback.gain_mode = mode
        playback.play_context(tracks, 0)
        wait_until(lambda: states[-2:] == ["playing", "stopped"])
    finally:
        playback.close()
        api.close()
    frames, rate = read_wav(out)
    return Rendered(frames, rate, order)


def gain_db(on: npt.NDArray[np.float32], off: npt.NDArray[np.float32]) -> float:
    return float(10 * np.log10(np.sum(on.astype(np.float64) ** 2) / np.sum(off.astype(np.float64) ** 2)))


def track_spans(rendered: Rendered) -> list[tuple[int, int]]:
    """Each started track's first and last frame in the render (lengths at the render's rate)."""
    starts = np.cumsum([0] + [round(t.duration_samples * rendered.rate / t.sample_rate) for t in rendered.order])
    return list(itertools.pairwise(int(start) for start in starts))


def join_steps_db(on: Rendered, off: Rendered, window_s: float = 0.25) -> list[float]:
    """The gain (normalisation on against off) just after each join minus the gain just before it."""
    window = int(window_s * on.rate)
    steps = []
    for _, join in track_spans(on)[:-1]:
        before = gain_db(on.frames[join - window:join], off.frames[join - window:join])
        after = gain_db(on.frames[join:join + window], off.frames[join:join + window])
        steps.append(after - before)
    return steps


def middle_gains_db(on: Rendered, off: Rendered) -> list[float]:
    """The gain of each track over its middle half."""
    return [gain_db(on.frames[a + (b - a) // 4:b - (b - a) // 4], off.frames[a + (b - a) // 4:b - (b - a) // 4])
            for a, b in track_spans(on)]
