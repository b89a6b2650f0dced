"""The audio path from the worker's decoded chunks into the ring: loudness gain, rate conversion, audio
waiting for room, an ending track's tail held back to crossfade under the next, and the runs that say where
each track's first frame comes out. Worker thread only; it never blocks, never decodes, and never starts or
stops the sink."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from player.crossfade import Fade
from player.decoder import Samples
from player.loudness import Limiter
from player.output import Output
from player.resample import RateConverter


@dataclass(frozen=True)
class HeldTail:
    """The tail a fade began with at ring frame `start`: kept so a queue edit can mix a new next track over it."""

    start: int
    frames: Samples


class RingWriter:
    """Writes into `output`'s current ring, in order. A run is a stretch of tracks at one input rate
    through one converter; `end_track()` is the ring frame where the run's next input frame comes out.

    While `holding`, converted audio is kept back instead of queued (the end of a track that may fade into the
    next); `begin_fade` lays it under the next track's first frames, `release_tail` queues it as it is."""

    def __init__(self, output: Output) -> None:
        self._output = output
        self._converter = RateConverter(0)
        self._limiter = Limiter()
        self._pending: Samples | None = None  # converted, waiting for room in the ring
        self._run_start = 0
        self._run_input_frames = 0
        self._run_rate = 0
        self.end_queued = False  # nothing follows what is queued: the ring ends once it is written
        self._tail: list[Samples] | None = None  # held back while holding
        self._fade: Fade | None = None  # a held tail the current track is being mixed over
        self.last_fade: HeldTail | None = None

    @property
    def output_rate(self) -> int:
        return self._converter.output_rate

    @property
    def has_pending(self) -> bool:
        return self._pending is not None

    @property
    def holding(self) -> bool:
        return self._tail is not None

    def queue(self, chunk: Samples, rate: int, gain: float | None) -> None:
        """Decoded `chunk` of the current run at `rate`, through the limiter at `gain` (None: as it is)."""
        if gain is not None:
            chunk = self._limiter.apply(chunk, gain)
        self._run_input_frames += len(chunk)
        self._append(self._converter.convert(chunk, rate))

    def write(self) -> bool:
        """Move pending audio into the ring; False when there was no room for any of it."""
        ring = self._output.ring
        assert self._pending is not None and ring is not None
        written = ring.write(self._pending)
        self._pending = self._pending[written:] if written < len(self._pending) else None
        if self._pending is None and self.end_queued:
            ring.end = ring.written
        return written > 0

    def queued(self) -> int:
        """Ring frame right after everything queued (written or pending)."""
        ring = self._output.ring
        assert ring is not None
        return ring.written + (0 if self._pending is None else len(self._pending))

    def end_track(self) -> int:
        """The current track's input ended: the ring frame where the next one starts. That is where the run's
        next input frame comes out, or, when this track ended inside a fade, right after the rest of the tail."""
        if self._fade is not None:
            self._append(self._converter.flush())
            self._settle_fade()
            self._run_rate = 0  # the next track starts a run of its own after the tail
        if self._run_rate == 0:
            return self.queued()
        return self._run_start + round(self._run_input_frames * self.output_rate / self._run_rate)

    def hold_tail(self, frames: Samples | None = None) -> None:
        """Keep converted audio back from now on (starting with `frames`, a tail held before) instead of queuing it."""
        self._tail = [] if frames is None else [frames]

    def release_tail(self) -> None:
        """No fade after all: the held audio is queued as it is, so the join stays gapless."""
        tail, self._tail = self._tail, None
        for frames in tail or ():
            self._queue_frames(frames)

    def begin_fade(self, rate: int) -> int:
        """The held tail goes under the next track, a run at `rate` starting where the tail starts; returns that
        ring frame."""
        self._append(self._converter.flush())
        self._settle_fade()
        parts, self._tail = self._tail or [], None
        tail = np.concatenate(parts) if parts else np.zeros((0, 2), np.float32)
        start = self.queued()
        self._fade = Fade(tail) if len(tail) else None
        self.last_fade = HeldTail(start, tail)
        self._run_rate = rate
        self._run_start = start
        self._run_input_frames = 0
        return start

    def begin_run(self, frame: int, rate: int) -> int:
        """Where a track at `rate` meant to start at `frame` starts: there, unless the rate changes, when the
        converter's tail is flushed and a new run starts right after it."""
        if rate == self._run_rate:
            return frame
        self._append(self._converter.flush())
        frame = self.queued()
        self._run_rate = rate
        self._run_start = frame
        self._run_input_frames = 0
        return frame

    def end_queue(self) -> None:
        """Nothing follows: flush the converter's tail, and end the ring once it is written."""
        self._append(self._converter.flush())
        self._settle_fade()
        self.release_tail()
        self.end_queued = True
        if self._pending is None:
            ring = self._output.ring
            assert ring is not None
            ring.end = ring.written

    def drop(self) -> None:
        """Forget everything not yet in the ring, and the gain and converter state (a jump or a stop)."""
        self._pending = None
        self.end_queued = False
        self._converter.reset()
        self._limiter.reset()
        self._run_rate = 0
        self._forget_fades()

    def restart(self, output_rate: int) -> None:
        """A fresh converter to `output_rate` and no run: for a new session, or after the ring was cut back."""
        self._pending = None
        self.end_queued = False
        self._converter = RateConverter(output_rate)
        self._run_rate = 0
        self._forget_fades()

    def _forget_fades(self) -> None:
        self._tail = None
        self._fade = None
        self.last_fade = None

    def _settle_fade(self) -> None:
        """A fade still under way when its track ends: the rest of the tail comes out, fading over silence."""
        fade, self._fade = self._fade, None
        if fade is not None:
            self._append(fade.rest())

    def _append(self, frames: Samples) -> None:
        """Converted audio of the current track: mixed over a fade's tail, then held back or queued."""
        if len(frames) == 0:
            return
        if self._fade is not None:
            frames = self._fade.mix(frames)
            if self._fade.remaining == 0:
                self._fade = None
        if self._tail is not None:
            self._tail.append(frames)
        else:
            self._queue_frames(frames)

    def _queue_frames(self, frames: Samples) -> None:
        if len(frames) == 0:
            return
        self._pending = frames if self._pending is None else np.concatenate([self._pending, frames])
