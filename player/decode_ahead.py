"""The queue decoded ahead of the listener: the current item's reader, opening the next playable item at the
last one's boundary (or crossfaded over its held tail), riding out a stalled read, and placing each track in the
ring and the timeline. Worker thread only; it never waits on a read past the `wait` it is given, and never moves
playback itself."""

from __future__ import annotations

import logging
from collections.abc import Callable

from player.commands import FeederSettings
from player.crossfade import held_tail_frames
from player.decoder import DecodeError, Samples, StreamInterrupted
from player.events import Event, Listener, PlaybackError, QueueFinished, QueueItem, TrackEnded, TrackStarted
from player.loudness import normalisation_gain
from player.output import Output
from player.ring_writer import RingWriter
from player.stall import Reconnector, TrackLost, Unplayable
from player.timeline import Segment
from player.track_reader import Preempted, TrackReader, Wait

log = logging.getLogger(__name__)


class DecodeAhead:
    """`items[index]` is the item being decoded. `feed()` moves one chunk along; a read that fails with the
    network stalls the track (retried with backoff while the ring plays, continued at the exact frame);
    `starving` is True while the ring is not being refilled. Events go to the timeline at their frame, or
    straight to `emit` while there is no session.

    With `crossfade_s()` above 0, the last seconds of an item whose length is known are held back, and the next
    item (unless it `joins_previous`) starts where they start, faded in over them: it "starts" (TrackStarted,
    the position) when its fade begins."""

    def __init__(self, output: Output, writer: RingWriter, settings: FeederSettings, emit: Listener,
                 normalising: Callable[[], bool], crossfade_s: Callable[[], float], wait: Wait) -> None:
        self._output = output
        self._writer = writer
        self._settings = settings
        self._emit = emit
        self._normalising = normalising
        self._crossfade_s = crossfade_s
        self._wait = wait
        self.items: tuple[QueueItem, ...] = ()
        self.index = 0
        self._reader: TrackReader | None = None  # the current item's, while it has a decoder open
        self.track_rate = 0
        self._loudness: tuple[float | None, float | None] = (None, None)  # the current item's, fixed as it opens
        self._track_frame = 0  # where the current item's next decoded frame is, at its own rate
        self._reconnect = Reconnector(settings.reconnect_s, emit)

    @property
    def decoding(self) -> bool:
        """There is audio still to come from the current item (a decoder open, or audio waiting for room)."""
        return self._reader is not None or self._writer.has_pending

    @property
    def busy(self) -> bool:
        """There is work for `feed`: audio to decode or write, or a stalled track to retry."""
        return self.decoding or self._reconnect.stalled

    def idle(self) -> bool:
        """Nothing for `feed` to do; the ring then counts as refilled (nothing more is coming to refill it)."""
        if self.busy:
            return False
        self._reconnect.starving = False
        return True

    @property
    def starving(self) -> bool:
        """The ring is not being refilled: a track stalled, and the ring has not had its prefill since."""
        return self._reconnect.starving

    def feed(self) -> bool:
        """Move one chunk along; False when the ring is full, there is nothing to decode, a stalled
        track is waiting for its next retry, or a command that moves playback cut a read short."""
        try:
            return self._feed_step()
        except Preempted:
            return False

    def open_from(self, index: int, frame: int) -> bool:
        """Open the first playable item from `index` on; errors become events at `frame`."""
        while index < len(self.items):
            item = self.items[index]
            reader = TrackReader(item)
            try:
                rate = self._reconnect.open_item(reader, self._wait)
            except Unplayable as error:
                reader.abandon()
                self.event(frame, PlaybackError(index, item.key, str(error)))
                index += 1
                continue
            except Preempted:
                reader.abandon()
                raise
            self._reader, self.index, self._track_frame, self.track_rate = reader, index, 0, rate
            self._loudness = (item.loudness_lufs, item.peak_dbfs)
            return True
        return False

    def seek(self, frame: int) -> int:
        """Seek the open decoder; returns the frame playback will start at."""
        assert self._reader is not None
        self._track_frame = max(0, frame)
        if frame <= 0:
            return 0
        try:
            self._reader.seek(frame, self._wait)
            return frame
        except StreamInterrupted as error:
            self._stalled(error, frame)
            return frame
        except DecodeError as error:
            self._emit(PlaybackError(self.index, self.items[self.index].key, str(error)))
            self._reader.seek(0, self._wait)
            self._track_frame = 0
            return 0

    def start_run(self, frame: int, track_frames: int, announce: bool) -> None:
        """The current item comes out at ring frame `frame` (or after the converter's tail), `track_frames` in."""
        timeline = self._output.timeline
        assert timeline is not None
        frame = self._writer.begin_run(frame, self.track_rate)
        item = self.items[self.index]
        timeline.add_segment(Segment(frame, self.index, item.key, track_frames))
        if announce:
            self.event(frame, TrackStarted(self.index, item.key))

    def event(self, frame: int, event: Event) -> None:
        timeline = self._output.timeline
        if timeline is None:
            self._emit(event)
        else:
            timeline.add_event(frame, event)

    def network_back(self) -> None:
        """The listener chose what to play: try the network again."""
        self._reconnect.network.back()

    def drop(self) -> None:
        """Stop decoding: the current reader is abandoned (a read it has under way finishes on its thread,
        which then closes it), and whatever stalled is forgotten."""
        self._close_decoder()
        self._reconnect.forget()

    # -- feeding -----------------------------------------------------------------------------------

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
            self._stalled(error, self._track_frame)
            return True
        except DecodeError as error:
            log.warning("decode failed mid-track: %s", error)
            self.event(self._writer.queued(), PlaybackError(self.index, self.items[self.index].key, str(error)))
            chunk = None
        self._reconnect.read_worked()
        if chunk is None:
            self._next_track()
        else:
            self._queue(chunk)
        return True

    def _queue(self, chunk: Samples) -> None:
        """Hand `chunk` to the writer, holding back from the frame where a fade into the next item would begin."""
        gain = self._gain()
        hold_from = None if self._writer.holding else self._hold_from()
        if hold_from is not None and self._track_frame + len(chunk) > hold_from:
            split = max(0, hold_from - self._track_frame)
            if split:
                self._writer.queue(chunk[:split], self.track_rate, gain)
                self._track_frame += split
                chunk = chunk[split:]
            self._writer.hold_tail()
        self._track_frame += len(chunk)
        self._writer.queue(chunk, self.track_rate, gain)

    def _hold_from(self) -> int | None:
        """The current item's frame from which its audio is held back to fade into the next; None: no fade."""
        following = self.index + 1
        if following >= len(self.items) or self.items[following].joins_previous:
            return None
        item = self.items[self.index]
        held = held_tail_frames(self._crossfade_s(), self.track_rate, item.frames, self.items[following].frames)
        return None if held == 0 or item.frames is None else item.frames - held

    def _gain(self) -> float | None:
        """The loudness gain for the current item (by its figures as it opened: a queue edit that replans it
        never steps it mid-track), or None while normalisation is off."""
        if not self._normalising():
            return None
        return normalisation_gain(*self._loudness)

    def _next_track(self) -> None:
        self._close_decoder()
        self.follow(self.index, self.items[self.index].key)

    def follow(self, ended: int, ended_key: str) -> None:
        """Item `ended` is decoded to its end: the next playable item after it starts, faded in over the
        held tail, or right after it (gapless); with none left, the queue ends."""
        if not self._writer.holding:
            boundary = self._writer.end_track()
            self.event(boundary, TrackEnded(ended, ended_key))
            if self.open_from(ended + 1, boundary):
                self.start_run(boundary, track_frames=0, announce=True)
            else:
                self._end_queue()
            return
        if not self.open_from(ended + 1, self._writer.queued()):
            self._writer.release_tail()
            self.event(self._writer.end_track(), TrackEnded(ended, ended_key))
            self._end_queue()
            return
        if self.index == ended + 1 and self.items[self.index].joins_previous:
            self._writer.release_tail()
            start = self._writer.end_track()
        else:
            start = self._writer.begin_fade(self.track_rate)
        self.event(start, TrackEnded(ended, ended_key))
        self.start_run(start, track_frames=0, announce=True)

    def _end_queue(self) -> None:
        self._writer.end_queue()
        self.event(self._writer.queued(), QueueFinished())

    def _close_decoder(self) -> None:
        if self._reader is not None:
            self._reader.abandon()
            self._reader = None

    # -- riding out the network --------------------------------------------------------------------

    def _stalled(self, error: StreamInterrupted, frame: int) -> None:
        reader, self._reader = self._reader, None
        assert reader is not None
        reader.close_decoder()
        self._reconnect.stall(self.index, self.items[self.index].key, reader, frame, str(error), error.retry_after_s)

    def _retry_stalled(self) -> bool:
        try:
            self._reader = self._reconnect.reopen(self._wait)
        except TrackLost as lost:
            log.warning("%s", lost)
            self.event(self._writer.queued(), PlaybackError(lost.index, lost.key, str(lost)))
            self._next_track()
            return True
        return self._reader is not None

    def _tend_starving(self) -> None:
        """The ring is refilled after a stall once it holds the prefill again (or all there is to come)."""
        ring = self._output.ring
        if not self._reconnect.starving or self._reconnect.stalled or ring is None:
            return
        wanted = int(self._settings.refill_s * self._writer.output_rate)
        if ring.available() >= wanted or not self.decoding:
            self._reconnect.starving = False
