"""The commands the engine sends its worker (the feeder), the inbox they wait in, and the worker's settings."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass

from player.events import QueueItem


@dataclass(frozen=True)
class Jump:
    """Play `items[index]` from `seconds` on, dropping whatever is queued. `move` numbers the engine's moves
    (jumps and stops) in the order it made them."""

    items: tuple[QueueItem, ...]
    index: int
    seconds: float
    move: int


@dataclass(frozen=True)
class Replace:
    """The queue is now `items`; items up to `after` (the one heard) are unchanged."""

    items: tuple[QueueItem, ...]
    after: int


def first_changed(old: tuple[QueueItem, ...], new: tuple[QueueItem, ...], after: int, decoded: int) -> int:
    """The first item past `after` whose already-decoded audio no longer belongs to the queue
    (`decoded + 1` when everything decoded so far still does)."""
    index = after + 1
    while index <= decoded and index < len(new) and old[index].key == new[index].key:
        index += 1
    return index


@dataclass(frozen=True)
class Sync:
    """Set `done` once every command sent before this one has been acted on."""

    done: threading.Event


@dataclass(frozen=True)
class Stop:
    """Stop the output once faded out, forgetting what is queued; `move` as in Jump."""

    move: int


@dataclass(frozen=True)
class Finish:
    """The queue ran out: let the sink play its tail, then stop the output."""


@dataclass(frozen=True)
class Shutdown:
    """Stop the output and end the worker thread."""


Command = Jump | Replace | Sync | Stop | Finish | Shutdown
MOVES = (Jump, Stop, Shutdown)  # the commands that move playback: the worker stops waiting on a read for them


class Inbox:
    """The worker's commands, in order. `wake` is set whenever one arrives (the worker waits on it while a
    read is under way), and `move_waiting` says whether one that moves playback is among them."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Command] = queue.Queue()
        self._lock = threading.Lock()
        self._moves = 0
        self.wake = threading.Event()

    @property
    def move_waiting(self) -> bool:
        return self._moves > 0

    def put(self, command: Command) -> None:
        if isinstance(command, MOVES):
            with self._lock:
                self._moves += 1
        self._queue.put(command)
        self.wake.set()

    def get(self, timeout: float | None = None) -> Command:
        """The next command, waiting up to `timeout` (None: for ever); queue.Empty when none came."""
        return self._taken(self._queue.get(timeout=timeout))

    def get_nowait(self) -> Command:
        return self._taken(self._queue.get_nowait())

    def empty(self) -> bool:
        return self._queue.empty()

    def _taken(self, command: Command) -> Command:
        if isinstance(command, MOVES):
            with self._lock:
                self._moves -= 1
        return command


@dataclass(frozen=True)
class FeederSettings:
    """Ring length, how much to decode before a play or jump is heard (at least: more when the sink's device
    buffer is long), how much a stalled track's ring holds again before it fades back in, the gain ramp, and how
    long a track whose bytes stopped arriving is retried before the queue goes on without it, all in seconds."""

    buffer_s: float
    start_s: float
    refill_s: float
    ramp_s: float
    reconnect_s: float = 30.0
