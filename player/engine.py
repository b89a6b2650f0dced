"""The gapless playback engine: the transport commands and the listener's events on top of the
feeder (decoding ahead into the ring) and a sink (device or render). Holds no lock while calling
the listener."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from player.commands import FeederSettings, Jump, Replace, Shutdown, Stop, Sync
from player.crossfade import MAX_CROSSFADE_S
from player.events import (
    Event,
    Listener,
    PlaybackError,
    Position,
    QueueItem,
    State,
    StateChanged,
)
from player.feeder import Feeder
from player.sinks import Sink

log = logging.getLogger(__name__)

RESTART_THRESHOLD_S = 3.0
RECONNECT_S = 30.0
_DISPATCH_INTERVAL_S = 0.005
# While a stalled track is not refilling the ring, fade out once less than this is left: more than a
# device's callback takes at once, so the fade always runs over real audio and never hits the empty ring.
_STARVING_GUARD_S = 0.3


class Engine:
    """Plays a queue of `QueueItem`s through `sink`, gapless.

    Commands return at once; the work happens on the engine's threads, and `listener(event)` is
    called from one of them (never with an engine lock held, so it may call back into the engine).
    A track whose bytes stop arriving is retried for `reconnect_s` (Reconnecting, then Reconnected or
    a PlaybackError for it); on a real-time sink the output fades out before the ring runs dry and
    back in once it is refilled (to `refill_s` of audio), so a stall is heard as a short fade, never a click. A play
    or jump is heard once `start_s` is decoded (or more, to fill a long device buffer without running short).
    """

    def __init__(self, sink: Sink, listener: Listener | None = None, *, buffer_s: float = 2.0,
                 start_s: float = 0.15, refill_s: float = 0.5, ramp_ms: float = 8.0,
                 reconnect_s: float = RECONNECT_S) -> None:
        self._sink = sink
        self._listener = listener
        self._lock = threading.RLock()
        self._emit_lock = threading.RLock()
        self._items: tuple[QueueItem, ...] = ()
        self._index = 0
        self._state: State = "stopped"
        self._volume = 1.0
        self._normalise = False
        self._crossfade_s = 0.0
        self._jumps_pending = 0
        self._moves = 0  # jumps and stops sent to the feeder: a stop it reports counts only if none came after
        self._starved = False  # faded out because a stalled track left the ring nearly empty
        self._closed = threading.Event()
        settings = FeederSettings(buffer_s, start_s, refill_s, ramp_ms / 1000.0, reconnect_s)
        self._feeder = Feeder(
            sink, self._emit, self._emit_lock, settings,
            gain_now=self._gain_now, normalising=lambda: self._normalise, crossfade_s=lambda: self._crossfade_s,
            on_jump_done=self._on_jump_done, on_stopped=self._on_stopped,
        )
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name="legato-events", daemon=True)
        self._dispatcher.start()

    # -- queries -----------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def volume(self) -> float:
        return self._volume

    @property
    def frames_played(self) -> int:
        """Frames of audio handed to the output since the engine was made."""
        return self._feeder.counters()[0]

    @property
    def underruns(self) -> int:
        """Output blocks that found the ring short of audio, plus callbacks the device reported
        late (output underflow): every time the listener may have heard a gap."""
        _, short, late = self._feeder.counters()
        return short + late

    @property
    def buffered_frames(self) -> int:
        """Frames in the ring ahead of the listener (decoded, mixed and gained, not yet heard)."""
        with self._feeder.lock:
            ring = self._feeder.ring
            return ring.available() if ring is not None else 0

    @property
    def late_callbacks(self) -> int:
        """The part of `underruns` the device reported (the callback ran late), not the ring."""
        return self._feeder.counters()[2]

    def position(self) -> Position:
        with self._feeder.lock:
            ring, timeline = self._feeder.ring, self._feeder.timeline
            if ring is not None and timeline is not None:
                heard = timeline.position(ring.consumed)
                if heard is not None:
                    return heard
        with self._lock:
            key = self._items[self._index].key if self._index < len(self._items) else ""
            return Position(self._index, key, 0, 0)

    # -- transport ---------------------------------------------------------------------------------

    def set_queue(self, items: Sequence[QueueItem], start_index: int = 0) -> None:
        """Replace the queue; playback (if any) moves to `start_index`."""
        with self._lock:
            self._items = tuple(items)
            self._index = start_index
            if self._state != "stopped":
                self._jump(start_index, 0.0)

    def replace_upcoming(self, after_index: int, items: Sequence[QueueItem]) -> bool:
        """Keep items up to `after_index` (the one being heard) and queue `items` after it, without
        interrupting playback. False, and nothing changes, when the listener is no longer on `after_index`."""
        with self._lock:
            if self._state != "stopped" and self.position().index != after_index:
                return False
            self._items = self._items[:after_index + 1] + tuple(items)
            if self._state != "stopped":
                self._feeder.commands.put(Replace(self._items, after_index))
            return True

    def sync(self, timeout_s: float = 5.0) -> bool:
        """Wait until the worker has acted on every command sent so far. For tests and tools: the UI
        thread never waits on the engine."""
        done = threading.Event()
        self._feeder.commands.put(Sync(done))
        return done.wait(timeout_s)

    def play(self, start_s: float = 0.0) -> None:
        """Start the current item from `start_s` (sample-accurate); a paused engine resumes instead."""
        if self._state == "paused":
            self.resume()
            return
        with self._lock:
            if self._state != "stopped" or not self._items:
                return
            self._state = "playing"
            self._jump(self._index, max(0.0, start_s))
        self._emit(StateChanged("playing"))

    def pause(self) -> None:
        with self._lock:
            if self._state != "playing":
                return
            self._state = "paused"
            self._set_target(0.0)
        self._emit(StateChanged("paused"))

    def resume(self) -> None:
        with self._lock:
            if self._state != "paused":
                return
            self._state = "playing"
            if self._jumps_pending == 0:  # else the jump fades in once it has refilled the ring
                self._set_target(self._gain_now())
        self._emit(StateChanged("playing"))

    def stop(self) -> None:
        with self._lock:
            if self._state == "stopped":
                return
            self._state = "stopped"
            self._set_target(0.0)
            self._moves += 1
            self._feeder.commands.put(Stop(self._moves))
        self._emit(StateChanged("stopped"))

    def seek(self, seconds: float) -> None:
        """Continue the current track from `seconds` (sample-accurate)."""
        with self._lock:
            if self._state != "stopped":
                self._jump(self.position().index, max(0.0, seconds))

    def next(self) -> None:
        """The next track; past the last one, stop."""
        with self._lock:
            index = self.position().index + 1
            if index < len(self._items):
                if self._state == "stopped":
                    self._index = index
                else:
                    self._jump(index, 0.0)
                return
        self.stop()

    def previous(self) -> None:
        """Back to the start of the track when more than 3 s in, else to the previous track."""
        with self._lock:
            heard = self.position()
            index = heard.index if heard.seconds > RESTART_THRESHOLD_S else max(0, heard.index - 1)
            if self._state == "stopped":
                self._index = index
            else:
                self._jump(index, 0.0)

    def set_volume(self, volume: float) -> None:
        with self._lock:
            self._volume = min(1.0, max(0.0, float(volume)))
            if self._state == "playing" and self._jumps_pending == 0:
                self._set_target(self._gain_now())

    def set_normalisation(self, enabled: bool) -> None:
        """Loudness normalisation to -14 LUFS (takes effect for audio decoded from now on)."""
        self._normalise = enabled

    @property
    def crossfade_s(self) -> float:
        return self._crossfade_s

    def set_crossfade(self, seconds: float) -> None:
        """Fade each track into the next over `seconds` (0: off; at most 12), equal-power, except into an item that
        `joins_previous` (gapless stays gapless). Applies to joins not yet decoded; a skip, jump or seek never
        fades (the usual few-ms ramp), and a seek into a track's last seconds fades over what is left of them."""
        self._crossfade_s = min(MAX_CROSSFADE_S, max(0.0, float(seconds)))

    def close(self) -> None:
        """Stop playing and end the engine's threads; the sink is closed too."""
        self.stop()
        self._feeder.commands.put(Shutdown())
        self._feeder.join()
        self._closed.set()
        self._dispatcher.join()
        self._sink.close()

    # -- internals ---------------------------------------------------------------------------------

    def _jump(self, index: int, seconds: float) -> None:
        """Called with the lock held: fade out now, the feeder moves playback and fades back in."""
        self._jumps_pending += 1
        self._starved = False
        with self._feeder.lock:
            ring = self._feeder.ring
            if ring is not None:
                ring.jumping = True
                ring.target_gain = 0.0
        self._moves += 1
        self._feeder.commands.put(Jump(self._items, index, seconds, self._moves))

    def _set_target(self, gain: float) -> None:
        with self._feeder.lock:
            ring = self._feeder.ring
            if ring is not None:
                ring.target_gain = gain

    def _gain_now(self) -> float:
        with self._lock:
            return self._volume if self._state == "playing" and not self._starved else 0.0

    def _tend_starving(self) -> None:
        """Fade out before a stalled track's ring runs dry; fade back in once the worker refilled it."""
        if not self._sink.realtime:
            return  # an offline render waits for the audio: nothing is heard meanwhile
        starving = self._feeder.starving
        with self._lock:
            if starving == self._starved:
                return
            if starving:
                with self._feeder.lock:
                    ring, timeline = self._feeder.ring, self._feeder.timeline
                    if ring is None or timeline is None:
                        return
                    if ring.available() > _STARVING_GUARD_S * timeline.sample_rate:
                        return
            self._starved = starving
            if self._jumps_pending == 0:
                self._set_target(self._gain_now())

    def _on_jump_done(self) -> None:
        with self._lock:
            self._jumps_pending -= 1
            if self._jumps_pending == 0:
                with self._feeder.lock:
                    ring = self._feeder.ring
                    if ring is not None:
                        ring.jumping = False
                        ring.target_gain = self._gain_now()

    def _on_stopped(self, index: int, move: int) -> None:
        with self._lock:
            if move != self._moves:
                return  # a play or jump came after what stopped the output: the feeder acts on it next
            self._jumps_pending = 0
            self._index = index
            was = self._state
            self._state = "stopped"
        if was != "stopped":
            self._emit(StateChanged("stopped"))

    def _emit(self, event: Event) -> None:
        if self._listener is None:
            return
        with self._emit_lock:
            try:
                self._listener(event)
            except Exception:
                log.exception("the engine's listener failed on %s", event)

    def _dispatch_loop(self) -> None:
        reported: str | None = None
        while not self._closed.wait(_DISPATCH_INTERVAL_S):
            try:
                reported = self._dispatch_once(reported)
            except Exception:
                log.exception("the engine's event round failed; the next one runs in %.0f ms",
                               _DISPATCH_INTERVAL_S * 1000)

    def _dispatch_once(self, reported: str | None) -> str | None:
        """Due events out, a starving track tended, a new output failure reported (and playback stopped); the
        failure reported so far."""
        self._feeder.emit_due()
        self._tend_starving()
        failure = self._sink.failure()
        if failure is not None and failure != reported:
            heard = self.position()
            self._emit(PlaybackError(-1, heard.key, f"audio output failed: {failure}"))
            self.stop()
            return failure
        return reported
