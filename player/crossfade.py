"""Crossfades between tracks: how much of an ending track to hold back, and the equal-power mix of the next
track's opening over that held tail. Worker thread only; never the real-time callback."""

from __future__ import annotations

import numpy as np

from player.decoder import CHANNELS, Samples
from player.loudness import Limiter

MAX_CROSSFADE_S = 12.0
_EMPTY = np.zeros((0, CHANNELS), np.float32)


def held_tail_frames(crossfade_s: float, rate: int, ending_frames: int | None, next_frames: int | None) -> int:
    """Frames (at the ending track's `rate`) at its end to hold back for a fade into the next: 0 for none.

    Never more than half of either track, so a fade never covers a whole short track; 0 when the ending
    track's length is unknown (its end cannot be seen coming)."""
    if crossfade_s <= 0.0 or ending_frames is None:
        return 0
    frames = min(round(min(crossfade_s, MAX_CROSSFADE_S) * rate), ending_frames // 2)
    if next_frames is not None:
        frames = min(frames, next_frames // 2)
    return max(0, frames)


class Fade:
    """The ending track's held tail (output rate, gained) under the next track's first frames: the tail with
    cos, the next track with sin over the tail's length, so the summed power of uncorrelated audio stays
    level. A limiter keeps the sum within -1 dBFS where two loud tracks add up."""

    def __init__(self, tail: Samples) -> None:
        self._tail = tail
        self._done = 0
        self._limiter = Limiter()

    @property
    def remaining(self) -> int:
        """Tail frames that nothing has been mixed over yet."""
        return len(self._tail) - self._done

    def mix(self, frames: Samples) -> Samples:
        """`frames` of the next track (output rate), the first of them mixed over the rest of the tail."""
        count = min(len(frames), self.remaining)
        if count == 0:
            return frames
        out_curve, in_curve = self._curves(count)
        under = self._tail[self._done:self._done + count]
        mixed = self._limiter.apply(under * out_curve + frames[:count] * in_curve, 1.0)
        self._done += count
        return mixed if count == len(frames) else np.concatenate([mixed, frames[count:]])

    def rest(self) -> Samples:
        """The next track ended inside the fade: the tail not yet mixed over, still fading out, over silence."""
        count = self.remaining
        if count == 0:
            return _EMPTY
        out_curve, _ = self._curves(count)
        faded = self._limiter.apply(self._tail[self._done:] * out_curve, 1.0)
        self._done = len(self._tail)
        return faded

    def _curves(self, count: int) -> tuple[Samples, Samples]:
        """The fade-out and fade-in gains (one column each) for the next `count` frames of the fade."""
        phase = (np.arange(self._done, self._done + count, dtype=np.float64) + 0.5) / len(self._tail) * (np.pi / 2)
        return (np.cos(phase).astype(np.float32).reshape(-1, 1), np.sin(phase).astype(np.float32).reshape(-1, 1))
