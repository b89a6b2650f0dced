"""The output side of the engine's worker: the ring and timeline of one playing session, the sink that
drains them, and the counters that outlive a session. The worker alone creates and swaps them."""

from __future__ import annotations

import threading
from collections.abc import Callable

from player.commands import FeederSettings
from player.decoder import CHANNELS
from player.ring import Ring
from player.sinks import Sink
from player.timeline import Timeline


class Output:
    """`lock` guards the ring/timeline swap against readers on other threads (the engine, the dispatcher)."""

    def __init__(self, sink: Sink, settings: FeederSettings) -> None:
        self.sink = sink
        self._settings = settings
        self.lock = threading.RLock()
        self.ring: Ring | None = None
        self.timeline: Timeline | None = None
        self.running = False
        self._played_before = 0
        self._underruns_before = 0
        self._late_before = 0

    def counters(self) -> tuple[int, int, int]:
        """Frames played, underruns (ring short) and late device callbacks, over all sessions."""
        with self.lock:
            played, underruns, late = self._played_before, self._underruns_before, self._late_before
            if self.ring is not None:
                played += self.ring.played
                underruns += self.ring.underruns
                late += self.ring.late
            return played, underruns, late

    def create(self, rate: int) -> None:
        """A fresh ring and timeline for a session at `rate` (the output is held until `start`)."""
        ring = Ring.create(max(4096, int(self._settings.buffer_s * rate)), CHANNELS)
        ring.ramp_frames = max(1.0, self._settings.ramp_s * rate)
        ring.jumping = True
        with self.lock:
            self.ring = ring
            self.timeline = Timeline(rate, self._set_event_frame)

    def start(self, gain: float, at_track_start: bool, on_progress: Callable[[], None]) -> None:
        """Let the sink drain the ring, its first frames faded in (the usual ramp) so the first sound is never a
        click; only an offline render starting at a track's start takes them as they are (bit-exact)."""
        assert self.ring is not None and self.timeline is not None
        if not self.running:
            self.ring.target_gain = gain
            self.ring.current_gain = gain if at_track_start and not self.sink.realtime else 0.0
            self.sink.start(self.ring, self.timeline.sample_rate, on_progress)
            self.running = True

    def stop(self) -> None:
        """Stop the sink and end the session, keeping its counters."""
        if self.running:
            self.sink.stop()
            self.running = False
        with self.lock:
            ring, self.ring, self.timeline = self.ring, None, None
            if ring is not None:
                self._played_before += ring.played
                self._underruns_before += ring.underruns
                self._late_before += ring.late
        if ring is not None:
            ring.close()

    def _set_event_frame(self, frame: int) -> None:
        if self.ring is not None:
            self.ring.event_at = frame
