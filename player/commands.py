"""The commands the engine sends its worker (the feeder), and the worker's settings."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from player.events import QueueItem


@dataclass(frozen=True)
class Jump:
    """Play `items[index]` from `seconds` on, dropping whatever is queued."""

    items: tuple[QueueItem, ...]
    index: int
    seconds: float


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
    """Stop the output once faded out, forgetting what is queued."""


@dataclass(frozen=True)
class Finish:
    """The queue ran out: let the sink play its tail, then stop the output."""


@dataclass(frozen=True)
class Shutdown:
    """Stop the output and end the worker thread."""


Command = Jump | Replace | Sync | Stop | Finish | Shutdown


@dataclass(frozen=True)
class FeederSettings:
    """Ring length, how much to decode before starting, the gain ramp, and how long a track whose
    bytes stopped arriving is retried before the queue goes on without it, all in seconds."""

    buffer_s: float
    prefill_s: float
    ramp_s: float
    reconnect_s: float = 30.0
