"""Transfer rate over a sliding window of recent byte counts, on an injectable clock."""

from __future__ import annotations

import threading
from collections import deque

from offline.records import Clock

WINDOW_S = 5.0


class RateMeter:
    """Bytes per second over the last ``window_s`` seconds. Thread-safe."""

    def __init__(self, clock: Clock, window_s: float = WINDOW_S) -> None:
        self._clock = clock
        self._window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()
        self._started: float | None = None
        self._lock = threading.Lock()

    def add(self, byte_count: int) -> None:
        now = self._clock()
        with self._lock:
            if self._started is None:
                self._started = now
            self._samples.append((now, byte_count))
            self._trim(now)

    def rate_bps(self) -> float:
        now = self._clock()
        with self._lock:
            self._trim(now)
            if not self._samples or self._started is None:
                return 0.0
            span = now - max(self._started, now - self._window_s)
            return sum(count for _, count in self._samples) / span if span > 0 else 0.0

    def reset(self) -> None:
        with self._lock:
            self._samples.clear()
            self._started = None

    def _trim(self, now: float) -> None:
        while self._samples and self._samples[0][0] < now - self._window_s:
            self._samples.popleft()
