"""One queue item's source and decoder, driven on a thread of their own, so that the engine's worker waits
on a read only until a command moves playback. Never runs on the real-time callback; abandoning a reader
never blocks (a read under way finishes on its own thread, then its decoder is closed)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol, TypeVar

from player.decoder import Decoder, Samples
from player.events import QueueItem
from player.source import Source

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class Preempted(Exception):
    """The worker stopped waiting on its reader: a command that moves playback arrived first."""


class Wait(Protocol):
    """How the worker waits on a step: its result, or Preempted while the step goes on."""

    def __call__(self, step: Future[_T], /) -> _T: ...


class TrackReader:
    """`open`, `reopen`, `seek` and `read` each run on the reader's thread while the caller waits through
    `wait`. A read left under way by Preempted is the one the next `read` waits on, so no audio is lost.
    `close_decoder` keeps the source (a stalled track reopens on it); `abandon` closes the decoder once the
    step under way returns, and ends the thread."""

    def __init__(self, item: QueueItem) -> None:
        self.item = item
        self._source: Source | None = None
        self._decoder: Decoder | None = None
        self._steps: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._read: Future[Samples | None] | None = None
        self._abandoned = False

    def open(self, wait: Wait) -> int:
        """Open the item's source and a decoder at its start; returns the file's sample rate."""
        return wait(self._submit(self._open))

    def reopen(self, frame: int, wait: Wait) -> None:
        """A new decoder on the same source, continuing at `frame` (the file's own rate), after a stall."""
        wait(self._submit(lambda: self._reopen(frame)))

    def seek(self, frame: int, wait: Wait) -> None:
        wait(self._submit(lambda: self._opened().seek(frame)))

    def read(self, wait: Wait) -> Samples | None:
        """The next chunk, or None at the end of the track."""
        step = self._read if self._read is not None else self._submit(lambda: self._opened().read())
        self._read = step
        try:
            chunk = wait(step)
        except Preempted:
            raise
        except Exception:
            self._read = None
            raise
        self._read = None
        return chunk

    def close_decoder(self) -> None:
        """Close the decoder, keeping the source to reopen on."""
        self._read = None
        if self._thread is not None:
            self._steps.put(self._close_decoder)

    def abandon(self) -> None:
        """Close the decoder and end the thread once whatever it is doing returns; the caller goes on at once."""
        if self._abandoned:
            return
        self._abandoned = True
        self._read = None
        if self._thread is not None:
            self._steps.put(self._close_decoder)
            self._steps.put(None)

    # -- on the reader's thread --------------------------------------------------------------------

    def _submit(self, step: Callable[[], _T]) -> Future[_T]:
        future: Future[_T] = Future()
        self._steps.put(lambda: self._run_step(step, future))
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name=f"legato-read-{self.item.key}", daemon=True)
            self._thread.start()
        return future

    def _work(self) -> None:
        while (step := self._steps.get()) is not None:
            step()

    def _run_step(self, step: Callable[[], _T], future: Future[_T]) -> None:
        future.set_running_or_notify_cancel()
        try:
            future.set_result(step())
        except Exception as error:  # noqa: BLE001 - handed to the waiting worker, which reports it
            if self._abandoned:
                log.info("%s: a step abandoned for another track ended with: %s", self.item.key, error)
            future.set_exception(error)

    def _open(self) -> int:
        self._source = self.item.open_source()
        return self._new_decoder().sample_rate

    def _reopen(self, frame: int) -> None:
        decoder = self._new_decoder()
        if frame > 0:
            try:
                decoder.seek(frame)
            except Exception:
                self._close_decoder()
                raise

    def _new_decoder(self) -> Decoder:
        assert self._source is not None
        self._decoder = Decoder(self._source, self.item.frames, name=self.item.key)
        return self._decoder

    def _opened(self) -> Decoder:
        assert self._decoder is not None
        return self._decoder

    def _close_decoder(self) -> None:
        decoder, self._decoder = self._decoder, None
        if decoder is None:
            return
        try:
            decoder.close()
        except Exception:  # a decoder that cannot close is only a leak: the track has moved on
            log.exception("%s: closing the decoder failed", self.item.key)
