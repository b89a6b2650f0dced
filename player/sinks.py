"""The output contract (`Sink`) and the render sink, which writes the played audio to a WAV
file through the same ring and playhead as the device: faster than real time, or paced like a device."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from player.playhead import Playhead
from player.ring import Ring
from player.wav import Subtype, WavWriter

_BLOCK_FRAMES = 4096
_PACED_BLOCK_FRAMES = 1024
_IDLE_WAIT_S = 0.002


class Sink(Protocol):
    """Consumes the engine's ring. The engine starts it once the ring holds audio.

    `realtime`: an empty ring is heard as silence (a device), rather than waited for (an offline render).
    `device_buffer_s`: what it takes from the ring at once when it starts (a device buffer filled before it
    plays), 0 for a render.
    """

    realtime: bool

    @property
    def device_buffer_s(self) -> float:
        ...

    def output_rate(self, track_rate: int) -> int:
        """The rate to run at for a queue starting with a track at `track_rate`."""
        ...

    def start(self, ring: Ring, rate: int, on_progress: Callable[[], None]) -> None:
        """Begin consuming; call `on_progress` after consuming (when consuming in-process)."""
        ...

    def finish(self, timeout_s: float) -> None:
        """The queue's last frame is in the ring: play everything out, then stop."""
        ...

    def stop(self) -> None:
        """Stop now (the engine has already faded out)."""
        ...

    def failure(self) -> str | None:
        """Why the output stopped working, or None while it works."""
        ...

    def close(self) -> None:
        ...


class RenderSink:
    """Writes the output to a WAV file as fast as the decoder goes; never inserts silence.

    With `manual=True` nothing is consumed until `advance` is called, so tests run in lock-step.
    With `speed` it plays like a device instead, `speed` times faster than real time: it takes a block
    on every tick of its clock and writes silence (counted in `silent_frames`, and where it sits in the output
    in `silences`: (first frame, frames) runs) when the ring is short.
    """

    def __init__(self, path: str | os.PathLike[str], rate: int | None = None,
                 subtype: Subtype = "float32", *, manual: bool = False, speed: float | None = None) -> None:
        if speed is not None and (manual or speed <= 0):
            raise ValueError("a paced render sink needs a positive speed and cannot be manual")
        self.path = path
        self.realtime = speed is not None
        self.device_buffer_s = 0.0
        self.silent_frames = 0
        self.silences: list[tuple[int, int]] = []
        self._written = 0
        self._speed = speed
        self._rate = rate
        self._subtype: Subtype = subtype
        self._manual = manual
        self._writer: WavWriter | None = None
        self._ring: Ring | None = None
        self._head: Playhead | None = None
        self._on_progress: Callable[[], None] = lambda: None
        self._buffer = np.zeros((_BLOCK_FRAMES, 2), np.float32)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._started = threading.Event()

    @property
    def frames_written(self) -> int:
        return self._writer.frames_written if self._writer else 0

    def output_rate(self, track_rate: int) -> int:
        return self._rate or track_rate

    def start(self, ring: Ring, rate: int, on_progress: Callable[[], None]) -> None:
        if self._writer is None:
            self._writer = WavWriter(self.path, rate, ring.channels, self._subtype)
        elif self._writer.rate != rate:
            raise ValueError(f"{self.path} is being written at {self._writer.rate} Hz, not {rate} Hz")
        self._ring, self._head, self._on_progress = ring, Playhead(ring, _BLOCK_FRAMES), on_progress
        self._stopping.clear()
        self._started.set()
        if not self._manual:
            run = self._run if self._speed is None else lambda: self._run_paced(rate)
            self._thread = threading.Thread(target=run, name="legato-render", daemon=True)
            self._thread.start()

    def advance(self, frames: int, timeout_s: float = 10.0) -> int:
        """Manual mode: consume `frames` frames, waiting for the decoder as needed; returns fewer
        at the end of the queue or when playback is held (paused or stopped)."""
        deadline = time.monotonic() + timeout_s
        if not self._started.wait(timeout_s):
            raise TimeoutError(f"the engine did not start the render sink within {timeout_s} s")
        done = 0
        while done < frames:
            produced = self._step(frames - done)
            done += produced
            if produced == 0:
                if self._idle():
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"render sink got {done} of {frames} frames within {timeout_s} s")
                self._stopping.wait(_IDLE_WAIT_S)
        return done

    def finish(self, timeout_s: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self._flush_header()

    def stop(self) -> None:
        self._stopping.set()
        self._started.clear()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None
        self._head = None
        self._flush_header()

    def failure(self) -> str | None:
        return None

    def close(self) -> None:
        self.stop()
        if self._writer is not None:
            self._writer.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self._step(_BLOCK_FRAMES) == 0:
                if self._head is None or self._head.at_end():
                    return
                self._stopping.wait(_IDLE_WAIT_S)

    def _run_paced(self, rate: int) -> None:
        assert self._speed is not None
        tick_s = _PACED_BLOCK_FRAMES / rate / self._speed
        due = time.monotonic()
        while not self._stopping.is_set():
            head, writer = self._head, self._writer
            if head is None or writer is None:
                return
            self._on_progress()
            block = self._buffer[:_PACED_BLOCK_FRAMES]
            got = head.fill(block)
            self._on_progress()
            if got < len(block) and head.at_end():
                writer.write(block[:got])
                return
            writer.write(block)
            self._count_silence(self._written + got, len(block) - got)
            self._written += len(block)
            due += tick_s
            self._stopping.wait(max(0.0, due - time.monotonic()))

    def _count_silence(self, start: int, frames: int) -> None:
        if frames == 0:
            return
        self.silent_frames += frames
        if self.silences and sum(self.silences[-1]) == start:
            start, frames = self.silences[-1][0], self.silences[-1][1] + frames
            self.silences.pop()
        self.silences.append((start, frames))

    def _step(self, frames: int) -> int:
        head, writer = self._head, self._writer
        if head is None or writer is None:
            return 0
        # Deliver due events first, so a listener sees the position they fall at.
        self._on_progress()
        block = self._buffer[:min(frames, _BLOCK_FRAMES)]
        produced = head.produce(block, stop_at_event=True)
        if produced:
            writer.write(block[:produced])
        self._on_progress()
        return produced

    def _idle(self) -> bool:
        head, ring = self._head, self._ring
        if head is None or ring is None:
            return True
        return head.at_end() or (head.holding() and not ring.jumping)

    def _flush_header(self) -> None:
        if self._writer is not None:
            self._writer.sync()
