"""A track whose bytes stopped arriving: when to try again (backoff), when to give up (the bound),
whether the network counts as gone, and reopening the track at the frame it stopped at. Used by the
engine's worker thread only; never blocks beyond the one read it retries, and not even on that once a command
moves playback (Preempted passes through)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from player.decoder import DecodeError, StreamInterrupted
from player.events import Event, QueueItem, Reconnected, Reconnecting
from player.track_reader import Preempted, TrackReader, Wait

log = logging.getLogger(__name__)

FIRST_RETRY_S = 0.05
MAX_RETRY_S = 1.0


@dataclass
class Stall:
    """Item `index` stopped `frame` frames in (at the file's own rate); `reader` keeps its source so that a
    new decoder on it continues from exactly there. `reason` is the last failure, fit for the user."""

    index: int
    key: str
    reader: TrackReader
    frame: int
    reason: str
    started_s: float
    limit_s: float
    attempts: int = 0
    next_try_s: float = 0.0
    announced: bool = False

    retry_after_s: float | None = None  # what a busy server asked for before the first retry

    def __post_init__(self) -> None:
        self.next_try_s = self.started_s + _not_before(FIRST_RETRY_S, self.retry_after_s)

    def due(self, now_s: float) -> bool:
        return now_s >= self.next_try_s

    def expired(self, now_s: float) -> bool:
        return now_s - self.started_s >= self.limit_s

    def failed(self, now_s: float, reason: str, retry_after_s: float | None = None) -> None:
        """Another attempt failed: the next one waits twice as long, up to MAX_RETRY_S, and never less than a
        busy server's Retry-After (plus jitter)."""
        self.attempts += 1
        self.reason = reason
        self.next_try_s = now_s + _not_before(min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** self.attempts), retry_after_s)


def _not_before(backoff_s: float, retry_after_s: float | None) -> float:
    """The backoff, or when the server asked for ``R`` s: uniform in [R, 2R], never sooner than asked and spread
    so that every listener told ``R`` at once does not come back in one wall."""
    if not retry_after_s or retry_after_s <= 0:
        return backoff_s
    return max(backoff_s, retry_after_s + random.uniform(0.0, retry_after_s))


class NetworkWatch:
    """Whether the network counts as gone: from a stall that outlived its bound (or an opening that could
    not be read) until a stalled track gets its bytes again or the listener moves playback."""

    def __init__(self) -> None:
        self.gone = False

    def lost(self) -> None:
        self.gone = True

    def back(self) -> None:
        self.gone = False

    def skips(self, item: QueueItem) -> bool:
        """True when `item` is not worth trying now: the network is gone and the item says it needs it."""
        return self.gone and item.playable_offline is not None and not item.playable_offline()


class TrackLost(Exception):
    """The stalled item `index` cannot go on: its bytes did not come back in time, or do not decode."""

    def __init__(self, index: int, key: str, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.key = key


class Unplayable(Exception):
    """An item cannot start now; the message says why, for the user."""


class Reconnector:
    """Rides out a stalled track for the worker: keeps its source and frame, reopens it on schedule,
    and reports Reconnecting / Reconnected through `emit`. `starving` is True from a stall until the
    worker has refilled the ring (it clears that itself)."""

    def __init__(self, reconnect_s: float, emit: Callable[[Event], None]) -> None:
        self._reconnect_s = reconnect_s
        self._emit = emit
        self._stall: Stall | None = None
        self._recovering: Stall | None = None  # reopened, no audio read from it yet
        self.network = NetworkWatch()
        self.starving = False

    @property
    def stalled(self) -> bool:
        return self._stall is not None

    def stall(self, index: int, key: str, reader: TrackReader, frame: int, reason: str,
              retry_after_s: float | None = None) -> None:
        """Item `index` could not read on from `frame` (its own rate); a reopened one failing again
        keeps its first stall's clock. ``retry_after_s``: a busy server's Retry-After, waited out first."""
        now = time.monotonic()
        stall, self._recovering = self._recovering, None
        if stall is not None:
            stall.failed(now, reason, retry_after_s)
        else:
            # Once the network counts as gone, a stall gets one quick retry, not the whole bound.
            limit_s = 0.0 if self.network.gone else self._reconnect_s
            stall = Stall(index, key, reader, frame, reason, now, limit_s, retry_after_s=retry_after_s)
            log.warning("%s; retrying for up to %.0f s", reason, limit_s)
        self._stall = stall
        self.starving = True
        if not stall.announced and stall.limit_s > 0:
            stall.announced = True
            self._emit(Reconnecting(index, key, reason, stall.limit_s))

    def open_item(self, reader: TrackReader, wait: Wait) -> int:
        """Open the reader's item at its start (its sample rate); Unplayable when it cannot start now, without
        trying when the network is gone and the item says it needs it."""
        item = reader.item
        if self.network.skips(item):
            log.info("skipping %s: it needs the network, which is gone", item.key)
            raise Unplayable(f"{item.key}: not on this device, and the server cannot be reached")
        try:
            return reader.open(wait)
        except Preempted:
            raise
        except StreamInterrupted as error:
            # The RAM tier holds the next tracks' openings: one that cannot be read means the network is gone.
            self.network.lost()
            log.warning("cannot start %s: %s", item.key, error)
            raise Unplayable(str(error)) from error
        except Exception as error:  # a Source from above may fail in any way: the item is skipped
            log.warning("cannot play %s: %s", item.key, error)
            raise Unplayable(str(error)) from error

    def reopen(self, wait: Wait) -> TrackReader | None:
        """When a retry is due: the stalled reader with a decoder that continues at the stalled frame. None
        while waiting for the next retry; TrackLost once past the bound or when the bytes came back undecodable."""
        stall = self._stall
        assert stall is not None
        now = time.monotonic()
        if not stall.due(now):
            return None
        try:
            stall.reader.reopen(stall.frame, wait)
        except StreamInterrupted as error:
            stall.failed(now, str(error), error.retry_after_s)
            if not stall.expired(now):
                return None
            self.network.lost()
            self._give_up()
            raise TrackLost(stall.index, stall.key,
                            f"{stall.reason} (gave up after {stall.limit_s:.0f} s of retrying)") from error
        except DecodeError as error:
            self._give_up()
            raise TrackLost(stall.index, stall.key, str(error)) from error
        self._stall, self._recovering = None, stall
        return stall.reader

    def read_worked(self) -> None:
        """The decoder read on: if it was reopened after a stall, the network is back."""
        stall, self._recovering = self._recovering, None
        if stall is not None:
            self.network.back()
            waited_s = time.monotonic() - stall.started_s
            log.info("%s continues after %.1f s", stall.key, waited_s)
            if stall.announced:
                self._emit(Reconnected(stall.index, stall.key, waited_s))

    def forget(self) -> None:
        """Playback moved: whatever stalled is no longer wanted."""
        self._give_up()
        self._recovering = None
        self.starving = False

    def _give_up(self) -> None:
        if self._stall is not None:
            self._stall.reader.abandon()
            self._stall = None
