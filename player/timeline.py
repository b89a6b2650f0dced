"""Maps ring frames to what the listener hears: which queue item and how far into it, and which
events fall due at which frame. Shared by the worker, the dispatcher and the control thread."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from player.events import Event, Position


@dataclass(frozen=True)
class Segment:
    """From ring frame `start` on, the output is item `index` from `track_frames` (output rate) on."""

    start: int
    index: int
    key: str
    track_frames: int


class Timeline:
    """Segments and pending events, ordered by ring frame."""

    def __init__(self, sample_rate: int, on_next_event: Callable[[int], None]) -> None:
        """`on_next_event(frame)` learns, under the lock, the frame the next event is due at (-1: none)."""
        self.sample_rate = sample_rate
        self._on_next_event = on_next_event
        self._lock = threading.Lock()
        self._segments: deque[Segment] = deque()
        self._events: deque[tuple[int, Event]] = deque()

    def add_segment(self, segment: Segment) -> None:
        with self._lock:
            self._segments.append(segment)

    def add_event(self, frame: int, event: Event) -> None:
        with self._lock:
            self._events.append((frame, event))
            self._on_next_event(self._events[0][0])

    def due(self, read: int) -> list[Event]:
        """Pop the events whose frame has been consumed, in order."""
        with self._lock:
            events = []
            while self._events and self._events[0][0] <= read:
                events.append(self._events.popleft()[1])
            self._on_next_event(self._events[0][0] if self._events else -1)
            while len(self._segments) > 1 and self._segments[1].start <= read:
                self._segments.popleft()
            return events

    def forget_after(self, read: int) -> None:
        """Drop what was queued beyond `read`: it will never be heard."""
        with self._lock:
            self._events = deque((frame, event) for frame, event in self._events if frame <= read)
            self._segments = deque(segment for segment in self._segments if segment.start <= read)
            self._on_next_event(self._events[0][0] if self._events else -1)

    def forget_from(self, frame: int) -> None:
        """Drop the segments and events from `frame` on: that audio is being replaced."""
        with self._lock:
            self._events = deque((at, event) for at, event in self._events if at < frame)
            self._segments = deque(segment for segment in self._segments if segment.start < frame)
            self._on_next_event(self._events[0][0] if self._events else -1)

    def segment_start(self, index: int) -> int | None:
        """The ring frame where queue item `index` starts, if it is queued."""
        with self._lock:
            return next((s.start for s in self._segments if s.index == index and s.track_frames == 0), None)

    def position(self, read: int) -> Position | None:
        with self._lock:
            heard = [segment for segment in self._segments if segment.start <= read]
            if not heard:
                return None
            segment = heard[-1]
            return Position(segment.index, segment.key, segment.track_frames + read - segment.start, self.sample_rate)
