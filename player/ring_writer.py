"""The audio path from the worker's decoded chunks into the ring: loudness gain, rate conversion, audio
waiting for room, and the runs that say where each track's first frame comes out. Worker thread only;
it never blocks, never decodes, and never starts or stops the sink."""

from __future__ import annotations

import numpy as np

from player.decoder import Samples
from player.loudness import Limiter
from player.output import Output
from player.resample import RateConverter


class RingWriter:
    """Writes into `output`'s current ring, in order. A run is a stretch of tracks at one input rate
    through one converter; `boundary()` is the ring frame where the run's next input frame comes out."""

    def __init__(self, output: Output) -> None:
        self._output = output
        self._converter = RateConverter(0)
        self._limiter = Limiter()
        self._pending: Samples | None = None  # converted, waiting for room in the ring
        self._run_start = 0
        self._run_input_frames = 0
        self._run_rate = 0
        self.end_queued = False  # nothing follows what is queued: the ring ends once it is written

    @property
    def output_rate(self) -> int:
        return self._converter.output_rate

    @property
    def has_pending(self) -> bool:
        return self._pending is not None

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

    def boundary(self) -> int:
        """Ring frame where the current run's next input frame will come out."""
        return self._run_start + round(self._run_input_frames * self.output_rate / self._run_rate)

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

    def restart(self, output_rate: int) -> None:
        """A fresh converter to `output_rate` and no run: for a new session, or after the ring was cut back."""
        self._pending = None
        self.end_queued = False
        self._converter = RateConverter(output_rate)
        self._run_rate = 0

    def _append(self, frames: Samples) -> None:
        if len(frames) == 0:
            return
        self._pending = frames if self._pending is None else np.concatenate([self._pending, frames])
