"""The engine's worker thread: takes the engine's commands and carries out those that move playback (jump,
stop, queue edits, finish), and between them keeps the queue decoding ahead into the ring. Never waits on a
read while a command that moves playback is waiting."""

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
from player.decode_ahead import DecodeAhead
from player.events import Event, PlaybackError, Position, QueueFinished, TrackEnded
from player.output import Output
from player.ring import Ring
from player.ring_writer import RingWriter
from player.sinks import Sink
from player.timeline import Timeline
from player.track_reader import Preempted

log = logging.getLogger(__name__)
_SPLICE_MARGIN_S = 0.15  # more than one output block: frames the consumer may be copying right now

_IDLE_POLL_S = 0.005
# A start fills the sink's device buffer at once: the ring holds this many of them first, so it is not left short.
_START_DEVICE_BUFFERS = 3
_HOLD_TIMEOUT_S = 0.25
_T = TypeVar("_T")


class Feeder:
    """Owns the ring and the decoders; one thread. `gain_now()` is the output gain the engine's
    state asks for; `on_jump_done()` runs when a jump has refilled the ring, `on_stopped(index, move)`
    when the output stopped with item `index` as the one to play next, while acting on the engine's move `move`.

    `emit` delivers an event to the listener while holding `emit_lock`; events due at the same
    time from several threads are delivered in frame order under that lock.

    A read that fails with the network (StreamInterrupted) stalls the track: it is retried with backoff
    while the ring plays, and continues from the exact frame it stopped at; past `reconnect_s` the track
    ends with an error and the queue goes on (DecodeAhead). `starving` is True while the ring is not being
    refilled (the engine fades the output out before it runs dry, and back in once it is refilled).

    Reads happen on each track's own TrackReader thread; the worker waits on one only until a command that
    moves playback (jump, stop) arrives, then leaves the read to finish on its own and acts on the command."""

    def __init__(self, sink: Sink, emit: Callable[[Event], None], emit_lock: threading.RLock,
                 settings: FeederSettings, gain_now: Callable[[], float], normalising: Callable[[], bool],
                 crossfade_s: Callable[[], float], on_jump_done: Callable[[], None],
                 on_stopped: Callable[[int, int], None]) -> None:
        self._output = Output(sink, settings)
        self._sink = sink
        self._emit = emit
        self._emit_lock = emit_lock
        self._settings = settings
        self._gain_now = gain_now
        self._on_jump_done = on_jump_done
        self._on_stopped = on_stopped
        self._taken_move = 0  # the engine's latest move (Jump or Stop) this worker has taken up
        self.commands = Inbox()
        self.lock = self._output.lock  # guards ring/timeline swaps against readers on other threads
        self._writer = RingWriter(self._output)
        self._ahead = DecodeAhead(self._output, self._writer, settings, emit, normalising, crossfade_s,
                                  self._wait)
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

    @property
    def starving(self) -> bool:
        """The ring is not being refilled: a track stalled, and the ring has not had its prefill since."""
        return self._ahead.starving

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
                    latest = self._latest_jump(command)
                    self._taken_move = latest.move
                    self._jump(latest)
                elif isinstance(command, Replace):
                    self._replace(command)
                elif isinstance(command, Sync):
                    command.done.set()
                elif isinstance(command, Stop):
                    self._taken_move = command.move
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
        items, index = self._ahead.items, self._ahead.index
        key = items[index].key if index < len(items) else ""
        self._emit(PlaybackError(-1, key, f"audio output failed: {error}"))
        try:
            self._stop_output()
        finally:
            self._output.running = False
            self._on_stopped(self._ahead.index, self._taken_move)

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
        if self._ahead.idle():
            return self.commands.get()
        try:
            return self.commands.get_nowait()
        except queue.Empty:
            pass
        if self._ahead.feed():
            return None
        try:
            return self.commands.get(timeout=_IDLE_POLL_S)
        except queue.Empty:
            return None

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
        ahead = self._ahead
        ahead.network_back()
        ahead.items = jump.items
        if not ahead.open_from(jump.index, self._writer.queued() if self.ring else 0):
            if heard is not None:
                self._emit(TrackEnded(heard.index, heard.key))
            self._emit(QueueFinished())
            self._stop_output()
            self._on_stopped(0, self._taken_move)
            return
        rate = ahead.track_rate
        start_frame = ahead.seek(round(jump.seconds * rate))
        if self.ring is None:
            self._create_output(self._sink.output_rate(rate))
        item = ahead.items[ahead.index]
        moved = heard is None or (heard.index, heard.key) != (ahead.index, item.key)
        if heard is not None and moved:
            self._emit(TrackEnded(heard.index, heard.key))
        ahead.start_run(self._writer.queued(), round(start_frame * self._writer.output_rate / rate), announce=moved)
        self._prefill()
        self._start_output(at_track_start=start_frame == 0)

    def _replace(self, command: Replace) -> None:
        """Swap the queue past the item heard; audio already decoded for items that changed is taken
        back and decoded again from the new queue, so the join stays gapless."""
        ahead = self._ahead
        old, ahead.items = ahead.items, command.items
        changed = first_changed(old, command.items, command.after, ahead.index)
        if changed > ahead.index and not (self._writer.end_queued and changed < len(command.items)):
            return
        ring, timeline = self.ring, self.timeline
        start = timeline.segment_start(changed) if timeline is not None and changed <= ahead.index else None
        start = self._writer.queued() if start is None and changed > ahead.index else start
        margin = int(_SPLICE_MARGIN_S * self._writer.output_rate)
        if ring is None or timeline is None or start is None or start - ring.consumed < margin:
            log.info("queue edit too close to the next track to splice; it applies from the one after")
            ahead.items = old[:ahead.index + 1] + command.items[ahead.index + 1:]
            return
        fade = self._writer.last_fade
        ahead.drop()
        self._writer.restart(self._writer.output_rate)
        with self.lock:
            ring.truncate(start)
            ring.end = -1
            timeline.forget_from(start)
        ahead.index = changed - 1
        if fade is not None and fade.start == start:
            # The changed item was fading in over the one before: the new one fades in over the same tail.
            self._writer.hold_tail(fade.frames)
            ahead.follow(ahead.index, old[ahead.index].key)
            return
        ahead.event(start, TrackEnded(ahead.index, old[ahead.index].key))
        if ahead.open_from(changed, start):
            ahead.start_run(start, track_frames=0, announce=True)
        else:
            self._writer.end_queued = True
            ahead.event(start, QueueFinished())
            ring.end = start

    def _stop(self) -> None:
        self._wait_for_hold()
        heard = self._drop_queued()
        if heard is not None:
            self._emit(TrackEnded(heard.index, heard.key))
        self._stop_output()
        self._on_stopped(heard.index if heard is not None else self._ahead.index, self._taken_move)

    def _finish(self) -> None:
        ring = self.ring
        if ring is None or not ring.at_end():
            return  # a jump came in after the queue ran out: it plays on
        self._sink.finish(timeout_s=self._settings.buffer_s + 5.0)
        self._stop_output()
        self._on_stopped(0, self._taken_move)

    def _drop_queued(self) -> Position | None:
        """Forget everything queued but unheard; returns what the listener was hearing."""
        self._ahead.drop()
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
        start_s = max(self._settings.start_s, _START_DEVICE_BUFFERS * self._sink.device_buffer_s)
        wanted = int(start_s * self._writer.output_rate)
        while self.commands.empty() and self._writer.queued() < self.ring.consumed + wanted:
            if not self._ahead.decoding:
                break
            if not self._ahead.feed():
                break

    def _create_output(self, rate: int) -> None:
        self._output.create(rate)
        self._writer.restart(rate)

    def _start_output(self, at_track_start: bool) -> None:
        self._output.start(self._gain_now(), at_track_start, self.emit_due)
        self._on_jump_done()

    def _stop_output(self) -> None:
        self._ahead.drop()
        self._writer.drop()
        self._output.stop()
