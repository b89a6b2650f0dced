"""Test audio for the engine's tests (and the benchmark), importable by QA.

- ``make_signal(rate, frames)``: a continuous stereo 16-bit test signal (sines + a little noise).
- ``encode(pcm, rate, path, codec)``: writes int16 frames with a real FFmpeg encoder via PyAV.
- ``Album``: one signal split at uneven frames into tracks of one codec.
- ``running_pulse(root)``: a private PulseAudio with a null sink (no rewinds), and ``Pulse.record`` to capture it.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream

from player import FileSource, QueueItem

Pcm = npt.NDArray[np.int16]

CODECS = {
    # name: (encoder, suffix, rate, pass the manifest length)
    "flac": ("flac", ".flac", 44100, False),
    "opus": ("libopus", ".opus", 48000, False),
    "mp3": ("libmp3lame", ".mp3", 44100, False),
    "aac": ("aac", ".m4a", 44100, True),
}
SPLITS = (0.0, 0.2713, 0.5529, 1.0)  # fractions of the signal where tracks start


def make_signal(rate: int, frames: int, seed: int = 1) -> Pcm:
    """Sines that drift in pitch and pan, plus quiet noise: continuous across any split point."""
    t = np.arange(frames) / rate
    rng = np.random.default_rng(seed)
    left = 0.25 * np.sin(2 * np.pi * (220 * t + 15 * t * t)) + 0.15 * np.sin(2 * np.pi * 331 * t)
    right = 0.25 * np.sin(2 * np.pi * (277 * t + 9 * t * t)) + 0.15 * np.sin(2 * np.pi * 443 * t + 1.0)
    stereo = np.stack([left, right], axis=1) + 0.01 * rng.standard_normal((frames, 2))
    return np.round(stereo * 32767).astype(np.int16)


def encode(pcm: Pcm, rate: int, path: Path, codec: str, timestamps: bool = True, *,
           container_format: str | None = None, sample_format: str | None = None, out_rate: int | None = None,
           tags: dict[str, str] | None = None, bit_rate: int | None = 160_000, layout: str = "stereo") -> Path:
    """Encode int16 ``pcm`` (frames x 2 for stereo, frames for mono) at ``rate`` into ``path`` with ``codec``.

    `timestamps=False` feeds the encoder frames without pts, as naive ingest code does: MP4 then
    gets no edit list (AAC priming stays in) and Ogg gets wrong granules. ``bit_rate`` applies to the lossy
    codecs (None: the encoder's default); ``sample_format`` defaults to the codec's first.
    """
    with av.open(str(path), "w", format=container_format) as container:
        container.metadata.update(tags or {})
        stream = cast(AudioStream, container.add_stream(codec, rate=out_rate or rate, layout=layout))
        if bit_rate is not None and codec in ("libopus", "libmp3lame", "aac"):
            stream.bit_rate = bit_rate
        target_format = sample_format or stream.codec_context.codec.audio_formats[0].name
        stream.format = target_format
        resampler = av.AudioResampler(format=target_format, layout=layout, rate=out_rate or rate)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm).reshape(1, -1), format="s16", layout=layout)
        frame.sample_rate = rate
        # Without timestamps the Ogg muxer writes wrong granules and Opus loses its exact length.
        if timestamps:
            frame.pts = 0
            frame.time_base = Fraction(1, rate)
        for converted in resampler.resample(frame) + resampler.resample(None):
            container.mux(stream.encode(converted))
        container.mux(stream.encode(None))
    return path


@dataclass(frozen=True)
class Album:
    """Tracks cut from one continuous `signal` (int16 frames at `rate`)."""

    signal: Pcm
    rate: int
    paths: tuple[Path, ...]
    lengths: tuple[int, ...]
    with_manifest_length: bool

    def items(self) -> list[QueueItem]:
        return [
            QueueItem(path.name, lambda path=path: FileSource(path),
                      frames=length if self.with_manifest_length else None)
            for path, length in zip(self.paths, self.lengths, strict=True)
        ]


@dataclass(frozen=True)
class Pulse:
    """A private PulseAudio server whose only sink is `nullsink` (44.1 kHz stereo float32)."""

    server: str
    env: dict[str, str]
    daemon: subprocess.Popen[bytes]

    def record(self, path: Path) -> subprocess.Popen[bytes]:
        """Start capturing the null sink's monitor to `path` (raw float32le stereo, 44.1 kHz)."""
        with open(path, "wb") as out:
            return subprocess.Popen(
                ["parec", "-d", "nullsink.monitor", "--format=float32le", "--rate=44100", "--channels=2",
                 "--raw", "--latency-msec=20"],
                stdout=out, env=self.env,
            )


def _wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout_s} s")
        time.sleep(0.02)


@contextmanager
def running_pulse(root: Path) -> Iterator[Pulse]:
    """A PulseAudio server with its own runtime dir and HOME under `root`, while in the block."""
    env = dict(os.environ, HOME=str(root / "home"), PULSE_RUNTIME_PATH=str(root / "run"),
               XDG_RUNTIME_DIR=str(root / "xdg"))
    # A private server needs no D-Bus; left set, it waits on whatever session bus another fixture runs.
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    for folder in ("home", "run", "xdg"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    # norewinds=1: the null sink's rewinds (when a stream starts, moves or changes volume) were what made the
    # device tests stall now and then.
    daemon = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--system=false", "--disallow-exit",
         "-L", "module-native-protocol-unix auth-anonymous=1",
         "-L", "module-null-sink sink_name=nullsink rate=44100 channels=2 format=float32le norewinds=1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    socket = root / "run" / "native"
    env["PULSE_SERVER"] = f"unix:{socket}"
    try:
        _wait_until(lambda: socket.exists() and subprocess.run(
            ["pactl", "info"], check=False, env=env, capture_output=True).returncode == 0,
            15, "PulseAudio did not start")
        yield Pulse(env["PULSE_SERVER"], env, daemon)
    finally:
        daemon.terminate()
        daemon.wait(10)
