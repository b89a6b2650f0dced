"""The device sink: plays the ring through sounddevice from a separate output process (whose stream stays
open between sessions), so that a busy Python thread in the app cannot starve the audio callback of the GIL
and a play never waits for the device. Also lists devices."""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from player.output_messages import Attach, Detach, OpenStream, Quit, run_output
from player.ring import Ring

_START_TIMEOUT_S = 20.0
# PortAudio (ALSA -> PulseAudio) pauses ~2 s to recover from an xrun: longer silence means trouble.
_SILENT_DEVICE_S = 5.0
# A device buffer not yet known: PortAudio's "high" is 35 ms through ALSA to PulseAudio, more on some hosts.
_ASSUMED_BUFFER_S = 0.1


class DeviceError(Exception):
    """The output device cannot be used (missing, unplugged, refuses the format)."""


@dataclass(frozen=True)
class OutputDevice:
    index: int
    name: str
    host_api: str
    max_channels: int
    default_rate: int
    is_default: bool


def list_output_devices() -> list[OutputDevice]:
    """The devices that can play stereo output now, the system default marked."""
    sd = _refresh_portaudio()
    try:
        devices: Any = sd.query_devices()
        default_output = sd.default.device[1]
        host_apis: Any = sd.query_hostapis()
    except sd.PortAudioError as error:
        raise DeviceError(f"cannot list audio devices: {error}") from error
    return [
        OutputDevice(int(device["index"]), str(device["name"]), str(host_apis[device["hostapi"]]["name"]),
                     int(device["max_output_channels"]), int(device["default_samplerate"]),
                     int(device["index"]) == default_output)
        for device in devices if device["max_output_channels"] >= 2
    ]


def _refresh_portaudio() -> Any:
    """sounddevice, its devices re-scanned: PortAudio only sees those present when it was initialised. Safe here
    because this process never opens a stream (the output process does). Imported when first needed: the import
    initialises PortAudio (tens of ms reading ALSA's configuration), which a process that only plays never needs."""
    initialised = "sounddevice" in sys.modules
    import sounddevice as sd

    if initialised:
        sd._terminate()
        sd._initialize()
    return sd


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """While a spawned process starts, a bare `__main__`: spawn would otherwise import the app's main module (Qt
    and all, over a second) in the output process, which needs only `serve` and what it imports."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class DeviceSink:
    """Plays through `device` (index, name, or None for the system default).

    The output process and its stream live from `prepare` (or the first `start`) until `close`: between
    sessions the stream plays silence, so a play starts without waiting for the device; a play or resume that
    finds the device holding only silence restarts the stream (a few ms, counted in `restarts`), so it is heard at
    once rather than after that silence. A device that fails is reopened in the background (for up to `REOPEN_S`)
    while the ring waits. `latency` is sounddevice's: "high" (safe), "low", or seconds.
    """

    realtime = True

    def __init__(self, device: int | str | None = None, latency: str | float = "high") -> None:
        self.device = device
        self.latency = latency
        self.stream_latency_s: float | None = None
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._ring: Ring | None = None
        self._failure: str | None = None
        self._lock = threading.Lock()
        self._heartbeat = (0, time.monotonic())
        self._stream_rate: int | None = None  # the rate of the stream open (or being opened)
        self._opening = False  # an OpenStream is sent and its answer not yet read
        self._reopening = False  # the process said the device was lost and is reopening it
        self.reopened = 0  # times the device was lost and reopened
        self.restarts = 0  # times the stream was restarted to drop the silence it held (a play, a resume)

    @property
    def device_buffer_s(self) -> float:
        """The stream's buffer once it is open, else what `latency` asks for ("high" and "low" are assumed a
        generous `_ASSUMED_BUFFER_S`)."""
        if self.stream_latency_s is not None:
            return self.stream_latency_s
        return float(self.latency) if isinstance(self.latency, int | float) else _ASSUMED_BUFFER_S

    def prepare(self, rate: int) -> None:
        """Start the output process and open the stream at `rate` now, without waiting for either: a later
        `start` at that rate then finds the device running."""
        with self._lock:
            self._open(self._ensure_process(), rate)

    def output_rate(self, track_rate: int) -> int:
        """The track's own rate when the device takes it (bit-perfect), else the device's default."""
        if track_rate == self._stream_rate:
            return track_rate
        sd = _refresh_portaudio()
        try:
            sd.check_output_settings(self.device, samplerate=track_rate, channels=2, dtype="float32")
            return track_rate
        except (sd.PortAudioError, ValueError):
            pass
        try:
            info: Any = sd.query_devices(self.device, kind="output")
        except (sd.PortAudioError, ValueError) as error:
            raise DeviceError(f"no usable output device {self.device!r}: {error}") from error
        return int(info["default_samplerate"])

    def start(self, ring: Ring, rate: int, on_progress: Callable[[], None]) -> None:
        with self._lock:
            connection = self._ensure_process()
            self._open(connection, rate)
            if self._opening:
                self._opening = False
                reply, detail = self._receive(connection, "opened")
                if reply != "opened":
                    self._stream_rate = None
                    self._failure = str(detail)
                    raise DeviceError(self._failure)
                self.stream_latency_s = float(detail)
            connection.send(Attach(ring.name, ring.capacity, ring.channels))
            reply, detail = self._receive(connection, "attached")
            if reply != "attached":
                self._failure = str(detail)
                raise DeviceError(self._failure)
            self._ring = ring
            self._failure = None
            self._heartbeat = (ring.callbacks, time.monotonic())

    def finish(self, timeout_s: float) -> None:
        ring = self._ring
        deadline = time.monotonic() + timeout_s
        while ring is not None and self.failure() is None and time.monotonic() < deadline:
            if ring.at_end():
                break
            time.sleep(0.005)
        self.stop()

    def stop(self) -> None:
        """Stop reading the ring; the stream stays open (silence) and what the device holds plays out."""
        with self._lock:
            if self._ring is None or self._connection is None:
                return
            self._ring = None
            if self._process is not None and self._process.is_alive():
                self._connection.send(Detach())
                self._receive(self._connection, "detached")

    def failure(self) -> str | None:
        """Never waits: while `start` or `stop` holds the lock (talking to the output process, which takes up to
        seconds), the answer is the one last known."""
        if not self._lock.acquire(blocking=False):
            return self._failure
        try:
            return self._check()
        finally:
            self._lock.release()

    def _check(self) -> str | None:
        """Called with the lock held, so `start` and `stop` cannot swap the process or the ring (nor `Output` close
        the ring) while it is read, nor clear a failure it is about to set."""
        if self._failure is not None:
            return self._failure
        process, connection, ring = self._process, self._connection, self._ring
        if process is None or connection is None:
            return None
        if not process.is_alive():
            self._stream_rate = None
            if ring is not None:
                self._failure = f"the audio output process exited (code {process.exitcode})"
            return self._failure
        while not self._opening and connection.poll():
            self._note(connection.recv())
        if ring is None or self._failure is not None:
            return self._failure
        callbacks = ring.callbacks
        if callbacks != self._heartbeat[0] or self._reopening:
            self._heartbeat = (callbacks, time.monotonic())
        elif time.monotonic() - self._heartbeat[1] > _SILENT_DEVICE_S:
            self._failure = "the output device stopped asking for audio (was it unplugged?)"
        return self._failure

    def close(self) -> None:
        self.stop()
        with self._lock:
            if self._process is not None and self._connection is not None:
                if self._process.is_alive():
                    self._connection.send(Quit())
                self._process.join(5)
                if self._process.is_alive():
                    self._process.kill()
                    self._process.join()
                self._connection.close()
            self._process = self._connection = None
            self._stream_rate, self._opening = None, False

    def _open(self, connection: Connection, rate: int) -> None:
        """Called with the lock held: ask for a stream at `rate` unless one is open or being opened at it."""
        if self._stream_rate == rate and not self._reopening:
            return
        if self._opening:
            self._opening = False
            self._receive(connection, "opened")
        connection.send(OpenStream(2, rate, self.device, self.latency))
        self._stream_rate, self._opening, self._reopening = rate, True, False

    def _note(self, message: tuple[str, Any]) -> None:
        """An unasked message from the output process: the stream restarted, the device lost, reopened, or given
        up on."""
        kind, detail = message
        if kind == "restarted":
            self.restarts += 1
        elif kind == "lost":
            self._reopening = True
        elif kind == "reopened":
            self._reopening = False
            self.reopened += 1
            self.stream_latency_s = float(detail)
        elif kind == "failed":
            self._reopening = False
            self._stream_rate = None
            if self._ring is not None:
                self._failure = str(detail)

    def _ensure_process(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._connection is not None:
            return self._connection
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=run_output, args=(child,), name="legato-audio-output", daemon=True)
        with _main_hidden():
            process.start()
        child.close()
        self._process, self._connection = process, parent
        self._stream_rate, self._opening, self._reopening = None, False, False
        return parent

    def _receive(self, connection: Connection, expected: str) -> tuple[str, Any]:
        """The answer `expected` (or "failed"), noting unasked messages that arrive before it."""
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if connection.poll(0.05):
                try:
                    reply: tuple[str, Any] = connection.recv()
                except EOFError:
                    return ("gone", "the audio output process exited")
                if reply[0] == expected or (reply[0] == "failed" and expected == "opened"):
                    return reply
                self._note(reply)
                continue
            if self._process is None or not self._process.is_alive():
                return ("gone", "the audio output process exited")
        return ("gone", f"the audio output process did not answer within {_START_TIMEOUT_S} s")
