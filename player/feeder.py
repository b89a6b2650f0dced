"""The engine's worker: opens and decodes the queue ahead of the listener, applies loudness gain,
converts the rate and fills the ring, placing each track's first frame right after the last one's.
Also carries out the transport commands that move playback (jump, stop, finish)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from player.commands import (
    MOVES,
    Command,
    FeederSettings,
    Finish,
    Inbox,
    Jump,
    Replace,
    Shutdown,
    Stop,
    Sync,
    first_changed,
)
from player.decoder import DecodeError, StreamInterrupted
from player.events import (
    Event,
    PlaybackError,
    Position,
    QueueFinished,
    QueueItem,
    TrackEnded,
    TrackStarted,
)
from player.loudness import normalisation_gain
from player.output import Output
from player.ring import Ring
from player.ring_writer import RingWriter
from player.sinks import Sink
from player.stall import Reconnector, TrackLost, Unplayable
from player.timeline import Segment, Timeline
from player.track_reader import Preempted, TrackReader

log = logging.getLogger(__name__)
_SPLICE_MARGIN_S = 0.15  # more than one output block: frames the consumer may be copying right now

_IDLE_POLL_S = 0.005
_HOLD_TIMEOUT_S = 0.25
_T = TypeVar("_T")


class Feeder:
    """Owns the ring and the decoders; one thread. `gain_now()` is the output gain the engine's
    state asks for; `on_jump_done()` runs when a jump has refilled the ring, `on_stopped(index)`
    when the output stopped with item `index` as the one to play next.

    `emit` delivers an event to the listener while holding `emit_lock`; events due at the same
    time from several threads are delivered in frame order under that lock.

    A read that fails with the network (StreamInterrupted) stalls the track: it is retried with backoff
    while the ring plays, and continues from the exact frame it stopped at; past `reconnect_s` the track
    ends with an error and the queue goes on. `starving` is True while the ring is not being refilled
    (the engine fades the output out before it runs dry, and back in once it is refilled).

    Reads happen on each track's own TrackReader thread; the worker waits on one only until a command that
    moves playback (jump, stop) arrives, then leaves the read to finish on its own and acts on the command."""

    def __init__(self, sink: Sink, emit: Callable[[Event], None], emit_lock: threading.RLock,
                 settings: FeederSettings, gain_now: Callable[[], float], normalising: Callable[[], bool],
                 on_jump_done: Callable[[], None], on_stopped: Callable[[int], None]) -> None:
        self._output = Output(sink, settings)
        self._sink = sink
        self._emit = emit
        self._emit_lock = emit_lock
        self._settings = settings
        self._gain_now = gain_now
        self._normalising = normalising
        self._on_jump_done = on_jump_done
        self._on_stopped = on_stopped
        self.commands = Inbox()
        self.lock = self._output.lock  # guards ring/timeline swaps against readers on other threads
        self._writer = RingWriter(self._output)
        self._items: tuple[QueueItem, ...] = ()
        self._index = 0
        self._reader: TrackReader | None = None  # the current item's, while it has a decoder open
        self._track_rate = 0
        self._track_frame = 0  # where the current item's next decoded frame is, at its own rate
        self._reconnect = Reconnector(settings.reconnect_s, emit)
        self._deferred: Command | None = None  # taken from the queue while looking for later jumps
        self._thread = threading.Thread(target=self._run, name="legato-feeder", daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join()

    @property
    def ring(self) -> Ring | None:
        return self._output.ring

    @property
    def timeline(self) -> Timeline | None:
        return self._output.timeline

    def counters(self) -> tuple[int, int, int]:
        """Frames played, underruns (ring short) and late device callbacks, over all sessions."""
        return self._output.counters()

    def emit_due(self) -> None:
        """Deliver the events whose frame the sink has consumed, in order."""
        with self._emit_lock:
            with self.lock:
                if self.ring is None or self.timeline is None:
                    return
                events = self.timeline.due(self.ring.consumed)
            for event in events:
                if isinstance(event, QueueFinished):
                    self.commands.put(Finish())
                self._emit(event)

    # -- the worker loop ---------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                command = self._next_command()
                if isinstance(command, Shutdown):
                    self._stop_output()
                    return
                if isinstance(command, Jump):
                    self._jump(self._latest_jump(command))
                elif isinstance(command, Replace):
                    self._replace(command)
                elif isinstance(command, Sync):
                    command.done.set()
                elif isinstance(command, Stop):
                    self._stop()
                elif isinstance(command, Finish):
                    self._finish()
            except Preempted as preempted:
                log.info("%s", preempted)
            except Exception as error:  # the worker outlives any failure and reports it
                log.exception("playback stopped")
                self._fail(error)

    def _fail(self, error: Exception) -> None:
        """The output (or the worker) failed: say so, and stop cleanly."""
        key = self._items[self._index].key if self._index < len(self._items) else ""
        self._emit(PlaybackError(-1, key, f"audio output failed: {error}"))
        try:
            self._stop_output()
        finally:
            self._output.running = False
            self._on_stopped(self._index)

    def _latest_jump(self, jump: Jump) -> Jump:
        """A burst of jumps (fast skipping) goes straight to the last one; any other command waits its turn."""
        while self._deferred is None:
            try:
                following = self.commands.get_nowait()
            except queue.Empty:
                break
            if isinstance(following, Jump):
                self._on_jump_done()  # the skipped jump is done as far as the engine's fades are concerned
                jump = following
            else:
                self._deferred = following
        return jump

    def _next_command(self) -> Command | None:
        """The next command; while there is decoding to do, None after each step of it."""
        if self._deferred is not None:
            command, self._deferred = self._deferred, None
            return command
        if self._reader is None and not self._writer.has_pending and not self._reconnect.stalled:
            self._reconnect.starving = False
            return self.commands.get()
        try:
            return self.commands.get_nowait()
        except queue.Empty:
            pass
        if self._feed():
            return None
        try:
            return self.commands.get(timeout=_IDLE_POLL_S)
        except queue.Empty:
            return None

    def _feed(self) -> bool:
        """Move one chunk along; False when the ring is full, there is nothing to decode, a stalled
        track is waiting for its next retry, or a command that moves playback cut a read short."""
        try:
            return self._feed_step()
        except Preempted:
            return False

    def _wait(self, step: Future[_T]) -> _T:
        """A reader's step once it is done; Preempted as soon as a command that moves playback is waiting."""
        wake = self.commands.wake
        step.add_done_callback(lambda _: wake.set())
        while not step.done():
            wake.clear()
            if step.done():
                break
            if self.commands.move_waiting or isinstance(self._deferred, MOVES):
                raise Preempted("a read under way was left behind for the next command")
            wake.wait()
        return step.result()

    def _feed_step(self) -> bool:
        self._tend_starving()
        if self._reconnect.stalled:
            return self._retry_stalled()
        if self._writer.has_pending:
            return self._writer.write()
        if self._reader is None:
            return False
        try:
            chunk = self._reader.read(self._wait)
        except StreamInterrupted as error:
            self._stalled(str(error), self._track_frame)
            return True
        except DecodeError as error:
            log.warning("decode failed mid-track: %s", error)
            self._event(self._writer.queued(), PlaybackError(self._index, self._items[self._index].key, str(error)))
            chunk = None
        self._reconnect.read_worked()
        if chunk is None:
            self._next_track()
        else:
            self._track_frame += len(chunk)
            self._writer.queue(chunk, self._track_rate, self._gain())
        return True

    # -- riding out the network --------------------------------------------------------------------

    def _stalled(self, reason: str, frame: int) -> None:
        reader, self._reader = self._reader, None
        assert reader is not None
        reader.close_decoder()
        self._reconnect.stall(self._index, self._items[self._index].key, reader, frame, reason)

    def _retry_stalled(self) -> bool:
        try:
            self._reader = self._reconnect.reopen(self._wait)
        except TrackLost as lost:
            log.warning("%s", lost)
            self._event(self._writer.queued(), PlaybackError(lost.index, lost.key, str(lost)))
            self._next_track()
            return True
        return self._reader is not None

    @property
    def starving(self) -> bool:
        """The ring is not being refilled: a track stalled, and the ring has not had its prefill since."""
        return self._reconnect.starving

    def _tend_starving(self) -> None:
        """The ring is refilled after a stall once it holds the prefill again (or all there is to come)."""
        if not self._reconnect.starving or self._reconnect.stalled or self.ring is None:
            return
        wanted = int(self._settings.prefill_s * self._writer.output_rate)
        if self.ring.available() >= wanted or (self._reader is None and not self._writer.has_pending):
            self._reconnect.starving = False

    # -- decoding into the ring ------------------------------------------------------------------

    def _gain(self) -> float | None:
        """The loudness gain for the current item, or None while normalisation is off."""
        if not self._normalising():
            return None
        item = self._items[self._index]
        return normalisation_gain(item.loudness_lufs, item.peak_dbfs)

    def _next_track(self) -> None:
        boundary = self._writer.boundary()
        ended = self._items[self._index]
        self._close_decoder()
        self._event(boundary, TrackEnded(self._index, ended.key))
        if self._open_from(self._index + 1, boundary):
            self._start_run(boundary, track_frames=0, announce=True)
        else:
            self._writer.end_queue()
            self._event(self._writer.queued(), QueueFinished())

    def _open_from(self, index: int, frame: int) -> bool:
        """Open the first playable item from `index` on; errors become events at `frame`."""
        while index < len(self._items):
            item = self._items[index]
            reader = TrackReader(item)
            try:
                rate = self._reconnect.open_item(reader, self._wait)
            except Unplayable as error:
                reader.abandon()
                self._event(frame, PlaybackError(index, item.key, str(error)))
                index += 1
                continue
            except Preempted:
                reader.abandon()
                raise
            self._reader, self._index, self._track_frame, self._track_rate = reader, index, 0, rate
            return True
        return False

    def _start_run(self, frame: int, track_frames: int, announce: bool) -> None:
        assert self.timeline is not None
        frame = self._writer.begin_run(frame, self._track_rate)
        item = self._items[self._index]
        self.timeline.add_segment(Segment(frame, self._index, item.key, track_frames))
        if announce:
            self._event(frame, TrackStarted(self._index, item.key))

    def _event(self, frame: int, event: Event) -> None:
        if self.timeline is None:
            self._emit(event)
        else:
            self.timeline.add_event(frame, event)

    def _close_decoder(self) -> None:
        """Drop the current reader; a read it has under way finishes on its thread, which then closes it."""
        if self._reader is not None:
            self._reader.abandon()
            self._reader = None

    # -- transport ---------------------------------------------------------------------------------

    def _wait_for_hold(self) -> None:
        ring = self.ring
        if ring is None or not self._output.running:
            return
        deadline = time.monotonic() + _HOLD_TIMEOUT_S
        while ring.current_gain != 0.0 and time.monotonic() < deadline:
            if ring.available() == 0:
                # Nothing left to fade over (a read hung and the ring ran dry): the output is silent already,
                # and the next track must not start on the rest of this ramp.
                ring.current_gain = 0.0
                return
            time.sleep(0.001)

    def _jump(self, jump: Jump) -> None:
        try:
            self._move(jump)
        except Preempted:
            self._on_jump_done()  # overtaken: done as far as the engine's fades are concerned
            raise

    def _move(self, jump: Jump) -> None:
        self._wait_for_hold()
        heard = self._drop_queued()
        self._reconnect.network.back()  # the listener chose: try the network again
        self._items = jump.items
        if not self._open_from(jump.index, self._writer.queued() if self.ring else 0):
            if heard is not None:
                self._emit(TrackEnded(heard.index, heard.key))
            self._emit(QueueFinished())
            self._stop_output()
            self._on_stopped(0)
            return
        rate = self._track_rate
        start_frame = self._seek(round(jump.seconds * rate))
        if self.ring is None:
            self._create_output(self._sink.output_rate(rate))
        item = self._items[self._index]
        moved = heard is None or (heard.index, heard.key) != (self._index, item.key)
        if heard is not None and moved:
            self._emit(TrackEnded(heard.index, heard.key))
        self._start_run(self._writer.queued(), round(start_frame * self._writer.output_rate / rate), announce=moved)
        self._prefill()
        self._start_output(from_silence=start_frame == 0)

    def _replace(self, command: Replace) -> None:
        """Swap the queue past the item heard; audio already decoded for items that changed is taken
        back and decoded again from the new queue, so the join stays gapless."""
        old, self._items = self._items, command.items
        changed = first_changed(old, command.items, command.after, self._index)
        if changed > self._index and not (self._writer.end_queued and changed < len(command.items)):
            return
        ring, timeline = self.ring, self.timeline
        start = timeline.segment_start(changed) if timeline is not None and changed <= self._index else None
        start = self._writer.queued() if start is None and changed > self._index else start
        margin = int(_SPLICE_MARGIN_S * self._writer.output_rate)
        if ring is None or timeline is None or start is None or start - ring.consumed < margin:
            log.info("queue edit too close to the next track to splice; it applies from the one after")
            self._items = old[:self._index + 1] + command.items[self._index + 1:]
            return
        self._close_decoder()
        self._reconnect.forget()
        self._writer.restart(self._writer.output_rate)
        with self.lock:
            ring.truncate(start)
            ring.end = -1
            timeline.forget_from(start)
        self._index = changed - 1
        self._event(start, TrackEnded(self._index, old[self._index].key))
        if self._open_from(changed, start):
            self._start_run(start, track_frames=0, announce=True)
        else:
            self._writer.end_queued = True
            self._event(start, QueueFinished())
            ring.end = start

    def _seek(self, frame: int) -> int:
        """Seek the open decoder; returns the frame playback will start at."""
        assert self._reader is not None
        self._track_frame = max(0, frame)
        if frame <= 0:
            return 0
        try:
            self._reader.seek(frame, self._wait)
            return frame
        except StreamInterrupted as error:
            self._stalled(str(error), frame)
            return frame
        except DecodeError as error:
            self._emit(PlaybackError(self._index, self._items[self._index].key, str(error)))
            self._reader.seek(0, self._wait)
            self._track_frame = 0
            return 0

    def _stop(self) -> None:
        self._wait_for_hold()
        heard = self._drop_queued()
        if heard is not None:
            self._emit(TrackEnded(heard.index, heard.key))
        self._stop_output()
        self._on_stopped(heard.index if heard is not None else self._index)

    def _finish(self) -> None:
        ring = self.ring
        if ring is None or not ring.at_end():
            return  # a jump came in after the queue ran out: it plays on
        self._sink.finish(timeout_s=self._settings.buffer_s + 5.0)
        self._stop_output()
        self._on_stopped(0)

    def _drop_queued(self) -> Position | None:
        """Forget everything queued but unheard; returns what the listener was hearing."""
        self._close_decoder()
        self._reconnect.forget()
        self._writer.drop()
        self.emit_due()
        with self.lock:
            if self.ring is None or self.timeline is None:
                return None
            read = self.ring.consumed
            heard = self.timeline.position(read)
            self.timeline.forget_after(read)
            self.ring.end = -1
            self.ring.drop_queued()
            return heard

    def _prefill(self) -> None:
        assert self.ring is not None
        wanted = int(self._settings.prefill_s * self._writer.output_rate)
        while self.commands.empty() and self._writer.queued() < self.ring.consumed + wanted:
            if self._reader is None and not self._writer.has_pending:
                break
            if not self._feed():
                break

    def _create_output(self, rate: int) -> None:
        self._output.create(rate)
        self._writer.restart(rate)

    def _start_output(self, from_silence: bool) -> None:
        self._output.start(self._gain_now(), from_silence, self.emit_due)
        self._on_jump_done()

    def _stop_output(self) -> None:
        self._close_decoder()
        self._reconnect.forget()
        self._writer.drop()
        self._output.stop()
