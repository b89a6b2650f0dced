"""The device output process: opens the sounddevice stream and copies from the shared-memory ring.

It runs apart from the app so that no Python thread of the app (UI, network, decoding) can hold
the GIL the audio callback needs. Imports only the ring, the playhead and sounddevice."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import numpy.typing as npt
import sounddevice as sd

from player.playhead import Playhead
from player.ring import Ring

MAX_BLOCK_FRAMES = 8192
_POLL_S = 0.05
_LEAD_IN_S = 0.1
_LEAD_OUT_S = 0.2
_NICENESS = -11


@dataclass(frozen=True)
class OpenStream:
    """Start playing the ring `ring_name` at `rate` on `device`."""

    ring_name: str
    capacity: int
    channels: int
    rate: int
    device: int | str | None
    latency: str | float


@dataclass(frozen=True)
class CloseStream:
    """Stop after the frames already handed to the device have played out."""


@dataclass(frozen=True)
class Quit:
    pass


def serve(connection: Connection) -> None:
    """The process's main loop: one stream at a time, on request from the app."""
    _raise_priority()
    while True:
        request = connection.recv()
        if isinstance(request, Quit):
            return
        if isinstance(request, OpenStream) and _play(request, connection):
            return


def _raise_priority() -> None:
    """Ask the scheduler to run this process ahead of ordinary work (allowed for root or with
    CAP_SYS_NICE; otherwise it keeps the normal priority)."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, _NICENESS)


def _play(request: OpenStream, connection: Connection) -> bool:
    """Play until asked to close; True when the app asked the process to quit."""
    ring = Ring.attach(request.ring_name, request.capacity, request.channels)
    head = Playhead(ring, MAX_BLOCK_FRAMES)
    # [frames handed to the device, frames of silence to start with]
    counts = np.zeros(2, np.int64)

    def callback(outdata: npt.NDArray[np.float32], frames: int, time: Any, status: sd.CallbackFlags) -> None:
        try:
            ring.count_callback()
            if counts[0] < counts[1]:
                outdata.fill(0.0)
            else:
                if status.output_underflow:
                    ring.count_late()
                head.fill(outdata)
            counts[0] += frames
        except BaseException:  # noqa: BLE001 - the callback must never raise; play silence instead
            outdata.fill(0.0)

    try:
        stream = sd.OutputStream(
            samplerate=request.rate, channels=request.channels, dtype="float32", device=request.device,
            latency=request.latency, callback=callback,
        )
        # PulseAudio (through ALSA) drops the first and last few ms a stream plays: lead in and
        # out with silence so no audio is lost.
        counts[1] = round(max(_LEAD_IN_S, 3 * stream.latency) * request.rate)
        stream.start()
    except (sd.PortAudioError, ValueError) as error:
        ring.close()
        connection.send(("failed", f"cannot open the output device {request.device!r}: {error}"))
        return False
    connection.send(("started", float(stream.latency)))
    quit_requested = False
    try:
        while True:
            if connection.poll(_POLL_S):
                quit_requested = isinstance(connection.recv(), Quit)
                break
            if not stream.active:
                connection.send(("failed", "the output device stopped (was it unplugged?)"))
                break
        _play_out(stream, counts, round(max(_LEAD_OUT_S, 4 * stream.latency) * request.rate))
        # Only lead-out silence is left in the device: abort, since stop() drains for over a second.
        stream.abort()
    except sd.PortAudioError as error:
        connection.send(("failed", f"the output device failed: {error}"))
    finally:
        stream.close(ignore_errors=True)
        ring.close()
    connection.send(("closed", None))
    return quit_requested


def _play_out(stream: sd.OutputStream, counts: npt.NDArray[np.int64], frames: int) -> None:
    """Keep the stream running until `frames` more frames (silence by now) have gone out."""
    until = int(counts[0]) + frames
    deadline = time.monotonic() + 10 * frames / stream.samplerate + 1.0
    while stream.active and counts[0] < until and time.monotonic() < deadline:
        time.sleep(0.005)
