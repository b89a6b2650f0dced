"""The device output process: keeps one sounddevice stream open and copies from the shared-memory ring attached.

It runs apart from the app so that no Python thread of the app (UI, network, decoding) can hold the GIL the
audio callback needs. The stream stays open with no ring (silence) between sessions, and is reopened in the
background when the device fails. When the ring has audio to play (a play, a resume) and the device holds nothing
but silence, the stream is restarted, primed from the callback: the audio is heard at once rather than after a
device buffer of silence. Imports only the ring, the playhead, the messages and sounddevice; the app's
process never imports it (sounddevice's import initialises PortAudio)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np
import numpy.typing as npt
import sounddevice as sd

from player.output_messages import Attach, Detach, OpenStream, Quit
from player.playhead import Playhead
from player.ring import Ring

MAX_BLOCK_FRAMES = 8192
_POLL_S = 0.05
_LEAD_IN_S = 0.1
_LEAD_OUT_S = 0.2
# Frames past the device buffer PortAudio reports before it surely holds only silence (it can be a period short).
_BUFFER_MARGIN = 1024
_NICENESS = -11
# The stream's threads run SCHED_FIFO at PulseAudio's own default priority for its real-time threads.
_REALTIME_PRIORITY = 5
# A stream whose callback has not run for this long is lost (PortAudio's ALSA path pauses ~2 s on an xrun).
_SILENT_STREAM_S = 3.0
# How long a lost device is retried (every _RETRY_S) before the process gives up and says so.
REOPEN_S = 10.0
_RETRY_S = 0.25


class _Output:
    """The open stream, the ring it plays (if any), and what its callback counts."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.request: OpenStream | None = None
        self.stream: sd.OutputStream | None = None
        self.ring: Ring | None = None
        self.head: Playhead | None = None
        # [frames handed to the device, frames of silence to start with, monotonic ns of the last callback,
        #  frames handed up to the last ring audio, 1 while a restart is due (the callback plays silence)]
        self.counts = np.zeros(5, np.int64)
        self.held_frames = 0  # frames the device buffer can hold: silence handed for this long is all it holds
        # The callback wakes the main loop through this pipe when a restart is due.
        self.wake_reader, self._wake_writer = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.lost_since: float | None = None
        self.last_retry = 0.0
        self._retired: list[tuple[Ring, int]] = []  # detached rings, closed once no callback can still read them

    def callback(self, outdata: npt.NDArray[np.float32], frames: int, time_info: Any,
                 status: sd.CallbackFlags) -> None:
        try:
            self.counts[2] = time.monotonic_ns()
            ring, head = self.ring, self.head
            if ring is not None:
                ring.count_callback()
            if head is None or ring is None or self.counts[0] < self.counts[1] or self.counts[4]:
                outdata.fill(0.0)
            elif head.wants_audio() and ring.available() and self.only_silence_held():
                outdata.fill(0.0)
                self.counts[4] = 1
                with contextlib.suppress(BlockingIOError):
                    os.write(self._wake_writer, b"\0")
            else:
                if status.output_underflow:
                    ring.count_late()
                if head.fill(outdata):
                    self.counts[3] = self.counts[0] + frames
            self.counts[0] += frames
        except BaseException:  # noqa: BLE001 - the callback must never raise; play silence instead
            outdata.fill(0.0)

    def only_silence_held(self) -> bool:
        """Whether the device buffer holds nothing but silence: the last ring audio was handed longer ago than it
        can hold."""
        return bool(self.counts[0] - self.counts[3] >= self.held_frames)

    def open(self, request: OpenStream) -> str | None:
        """Open (or keep) the stream `request` asks for; why not, or None once it runs."""
        if self.stream is not None and self.request == request and self.lost_since is None:
            return None
        if self.lost_since is None:
            self.play_out()
        self.close_stream()
        self.request = request
        try:
            with _threads_started_realtime():
                # Primed: a start fills the device buffer from the callback, not with silence ahead of it.
                stream = sd.OutputStream(samplerate=request.rate, channels=request.channels, dtype="float32",
                                         device=request.device, latency=request.latency, callback=self.callback,
                                         prime_output_buffers_using_stream_callback=True)
                # PulseAudio (through ALSA) drops the first few ms a stream plays: lead in with silence.
                lead_in = round(max(_LEAD_IN_S, 3 * stream.latency) * request.rate)
                self.counts[:] = (0, lead_in, time.monotonic_ns(), 0, 0)
                self.held_frames = round(stream.latency * request.rate) + _BUFFER_MARGIN
                stream.start()
        except (sd.PortAudioError, ValueError) as error:
            if self.lost_since is None:
                self.request = None  # a device that never opened is not retried
            return f"cannot open the output device {request.device!r}: {error}"
        self.stream = stream
        self.lost_since = None
        return None

    def play_out(self) -> None:
        """Keep a running stream going until what the device held has played (silence follows it by now)."""
        stream = self.stream
        if stream is None:
            return
        frames = round(max(_LEAD_OUT_S, 4 * stream.latency) * stream.samplerate)
        until = int(self.counts[0]) + frames
        deadline = time.monotonic() + 10 * frames / stream.samplerate + 1.0
        while stream.active and self.counts[0] < until and time.monotonic() < deadline:
            time.sleep(0.005)

    def restart(self) -> None:
        """Drop the silence the device buffer holds, once the callback (or `attach`) found nothing else in it and
        plays silence meanwhile: abort the stream (PortAudio drops its buffer) and start it again, primed from the
        callback; no lead in, as PulseAudio's side of the stream is up."""
        with contextlib.suppress(BlockingIOError):
            os.read(self.wake_reader, 64)
        stream = self.stream
        if not self.counts[4] or stream is None or self.lost_since is not None:
            self.counts[4] = 0
            return
        try:
            stream.abort()
            # An empty buffer: no lead in, and nothing to drop until a buffer's worth of silence is handed again.
            self.counts[1], self.counts[3], self.counts[4] = self.counts[0], self.counts[0], 0
            with _threads_started_realtime():  # PortAudio starts a new callback thread
                stream.start()
        except sd.PortAudioError:
            self.counts[2] = 0  # `tend` sees the stream lost at once and reopens it
            return
        self.connection.send(("restarted", None))

    def close_stream(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            # Only silence or a dead device is left: abort, since stop() drains for over a second.
            with contextlib.suppress(sd.PortAudioError):
                stream.abort()
            stream.close(ignore_errors=True)

    def attach(self, request: Attach) -> None:
        """Play the ring `request` names: restarted at once when the device holds only silence, else right after
        what it holds."""
        self.detach()
        ring = Ring.attach(request.ring_name, request.capacity, request.channels)
        self.counts[4] = 1  # the callback plays silence until it is decided
        self.head = Playhead(ring, MAX_BLOCK_FRAMES)
        self.ring = ring
        if self.only_silence_held():
            self.restart()
        self.counts[4] = 0

    def detach(self) -> None:
        ring, self.ring, self.head = self.ring, None, None
        if ring is not None:
            self._retired.append((ring, time.monotonic_ns()))
        self.close_retired(every=self.stream is None)

    def close_retired(self, every: bool = False) -> None:
        """Close the detached rings that a callback started after their detach (or all, with no stream)."""
        last_callback = int(self.counts[2])
        for entry in list(self._retired):
            ring, detached_ns = entry
            if every or last_callback > detached_ns:
                self._retired.remove(entry)
                ring.close()

    def tend(self) -> None:
        """Notice a lost stream, and reopen it in the background until REOPEN_S have passed."""
        self.close_retired(every=self.stream is None)
        stream, request = self.stream, self.request
        if request is None:
            return
        if self.lost_since is None:
            silent_s = (time.monotonic_ns() - int(self.counts[2])) / 1e9
            if stream is not None and stream.active and silent_s < _SILENT_STREAM_S:
                return
            self.lost_since = time.monotonic()
            self.close_stream()
            self.connection.send(("lost", "the output device stopped; reopening it"))
        now = time.monotonic()
        if now - self.last_retry < _RETRY_S:
            return
        self.last_retry = now
        _refresh_portaudio()
        failure = self.open(request)
        if failure is None:
            self.connection.send(("reopened", float(self.stream.latency) if self.stream else 0.0))
        elif now - self.lost_since > REOPEN_S:
            self.request, self.lost_since = None, None
            self.connection.send(("failed", f"the output device is gone (was it unplugged?): {failure}"))


def _refresh_portaudio() -> None:
    """Re-scan devices, so a restarted sound server or a replugged device is seen (no stream is open here)."""
    with contextlib.suppress(sd.PortAudioError):
        sd._terminate()
        sd._initialize()


def serve(connection: Connection) -> None:
    """The process's main loop: requests from the app, and the stream's health between them."""
    _raise_priority()
    output = _Output(connection)
    try:
        while True:
            ready = wait([connection, output.wake_reader], _POLL_S)
            if output.wake_reader in ready:
                output.restart()
            if connection not in ready:
                output.tend()
                continue
            request = connection.recv()
            if isinstance(request, Quit):
                output.detach()
                output.play_out()
                return
            if isinstance(request, OpenStream):
                failure = output.open(request)
                reply = ("opened", float(output.stream.latency) if output.stream else 0.0)
                connection.send(reply if failure is None else ("failed", failure))
            elif isinstance(request, Attach):
                output.attach(request)
                connection.send(("attached", None))
            elif isinstance(request, Detach):
                output.detach()
                connection.send(("detached", None))
    finally:
        output.detach()
        output.close_stream()
        output.close_retired(every=True)


@contextlib.contextmanager
def _threads_started_realtime() -> Iterator[None]:
    """The threads started in the block (PortAudio's callback thread, the PulseAudio client's I/O thread) run ahead
    of all ordinary work, as a sound server's own do, so a busy machine does not make them late and a short device
    buffer plays without gaps: they inherit SCHED_FIFO from this thread, which then returns to normal. Allowed for
    root, with CAP_SYS_NICE or an RLIMIT_RTPRIO (the audio group's limits on most desktops); otherwise they keep the
    process's raised priority."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(_REALTIME_PRIORITY))
    except OSError:
        yield
        return
    try:
        yield
    finally:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


def _raise_priority() -> None:
    """Ask the scheduler to run this process ahead of ordinary work (allowed for root or with
    CAP_SYS_NICE; otherwise it keeps the normal priority)."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, _NICENESS)
