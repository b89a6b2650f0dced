"""Benchmark of the gapless engine (issue 3). Not a test: prints figures, then one JSON line.

  python -m benchmarks.engine [--seconds 300]      (--seconds 20 for a smoke run)

- per codec: samples lost/added at each track boundary, and the largest step at a boundary
  against the largest step in the signal itself;
- engine decode+resample throughput against raw PyAV decoding of the same files (ratio);
- output underruns while a GIL-busy thread runs in the app process, through the real device path
  (a private PulseAudio null sink), at latency "high" (the default) for --seconds and "low" for up
  to a minute, against an in-process sounddevice stream (the baseline, up to a minute);
- CPU share of the app and its output process while playing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Self

import av
import numpy as np
import sounddevice as sd

from player import DeviceSink, Engine, FileSource, QueueFinished, QueueItem
from tests.helpers.audio_fixtures import CODECS, SPLITS, encode, make_signal, running_pulse
from tests.helpers.render_harness import as_float, best_lag, render


def boundaries(folder: Path) -> dict[str, dict[str, float]]:
    figures = {}
    for codec, (encoder, suffix, rate, manifest) in CODECS.items():
        signal = make_signal(rate, 6 * rate)
        cuts = [round(fraction * len(signal)) for fraction in SPLITS]
        items = []
        for number, (start, end) in enumerate(itertools.pairwise(cuts)):
            path = encode(signal[start:end], rate, folder / f"{codec}{number}{suffix}", encoder)
            items.append(QueueItem(path.name, lambda path=path: FileSource(path),
                                   frames=end - start if manifest else None))
        frames, _, _ = render(items, folder / f"{codec}.wav")
        reference = as_float(signal)
        own_step = float(np.abs(np.diff(reference, axis=0)).max())
        errors, steps = [], []
        for boundary in cuts[1:-1]:
            errors.append(abs(best_lag(frames, reference, boundary - 4096))
                          + abs(best_lag(frames, reference, boundary)))
            steps.append(float(np.abs(frames[boundary] - frames[boundary - 1]).max()))
        figures[codec] = {
            "length_error_frames": len(frames) - len(reference),
            "max_boundary_samples_lost_or_added": max(errors),
            "max_boundary_step_vs_signal": max(steps) / own_step,
        }
        print(f"{codec:5s} length error {len(frames) - len(reference):+d} frames, "
              f"boundary misalignment max {max(errors)} samples, "
              f"boundary step {max(steps) / own_step:.2f}x the signal's own largest step")
    return figures


def throughput(folder: Path) -> dict[str, float]:
    paths = [encode(make_signal(44100, 60 * 44100, seed=n), 44100, folder / f"long{n}.flac", "flac")
             for n in range(3)]
    started = time.perf_counter()
    for path in paths:
        with av.open(str(path)) as container:
            for _ in container.decode(audio=0):
                pass
    raw_s = time.perf_counter() - started
    items = [QueueItem(path.name, lambda path=path: FileSource(path)) for path in paths]
    started = time.perf_counter()
    frames, _, _ = render(items, folder / "throughput.wav", rate=48000)
    engine_s = time.perf_counter() - started
    audio_s = len(frames) / 48000
    print(f"throughput: engine (decode, trim, resample 44.1->48 kHz, ring, WAV) {audio_s / engine_s:.0f}x "
          f"real time; raw PyAV decode {audio_s / raw_s:.0f}x; ratio engine/raw time {engine_s / raw_s:.2f}")
    return {"engine_x_realtime": audio_s / engine_s, "raw_decode_x_realtime": audio_s / raw_s,
            "engine_time_vs_raw_decode": engine_s / raw_s}


class GilHog:
    """A pure-Python busy loop on a thread of this process."""

    def __enter__(self) -> Self:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()
        return self

    def _spin(self) -> None:
        while not self._stop.is_set():
            sum(i * i for i in range(10_000))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def album_items(folder: Path, seconds: float) -> list[QueueItem]:
    track_s = 30.0
    count = max(1, round(seconds / track_s))
    signal = make_signal(44100, int(min(seconds, track_s) * 44100))
    path = encode(signal, 44100, folder / "track.flac", "flac")
    return [QueueItem(f"t{n}", lambda: FileSource(path)) for n in range(count)]


def play_on_device(items: list[QueueItem], busy: bool, latency: str) -> tuple[int, int, float, float]:
    """Play to the end: underruns, the late-callback part of them, wall seconds, and CPU seconds
    of this process and its children."""
    finished = threading.Event()
    engine = Engine(DeviceSink("pulse", latency=latency),
                    lambda event: finished.set() if isinstance(event, QueueFinished) else None)
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    engine.set_queue(items)
    if busy:
        with GilHog():
            engine.play()
            finished.wait()
    else:
        engine.play()
        finished.wait()
    wall = time.monotonic() - started
    engine.close()
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=True))
    return engine.underruns, engine.late_callbacks, wall, cpu


def in_process_underruns(seconds: float, latency: str) -> int:
    """The baseline: a sounddevice stream in this process, its callback only copying a buffer."""
    signal = as_float(make_signal(44100, 44100 * 5))
    position = [0]
    underflows = [0]

    def callback(outdata: np.ndarray, frames: int, _time: object, status: sd.CallbackFlags) -> None:
        if status.output_underflow:
            underflows[0] += 1
        start = position[0] % (len(signal) - frames)
        outdata[:] = signal[start:start + frames]
        position[0] += frames

    with GilHog(), sd.OutputStream(samplerate=44100, channels=2, dtype="float32", device="pulse",
                                   latency=latency, callback=callback):
        time.sleep(seconds)
    return underflows[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the GIL-busy play (default 300)")
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        results["boundaries"] = boundaries(folder)
        results["throughput"] = throughput(folder)
        with running_pulse(folder / "pulse") as pulse:
            os.environ["PULSE_SERVER"] = pulse.server
            sd._terminate()
            sd._initialize()
            short_s = min(args.seconds, 60.0)
            gil_busy: dict[str, object] = {}
            for latency, seconds in (("high", args.seconds), ("low", short_s)):
                underruns, late, wall, _ = play_on_device(album_items(folder, seconds), True, latency)
                baseline = in_process_underruns(short_s, latency)
                print(f"latency={latency}: underruns with a GIL-busy thread in the app: {underruns} in {wall:.0f} s "
                      f"({late} of them late device callbacks); baseline, an in-process stream: "
                      f"{baseline} in {short_s:.0f} s")
                gil_busy[latency] = {"engine_underruns": underruns, "engine_late_callbacks": late,
                                     "engine_seconds": wall, "baseline_in_process_underruns": baseline,
                                     "baseline_seconds": short_s}
            _, _, cpu_wall, cpu = play_on_device(album_items(folder, min(args.seconds, 30.0)), False, "high")
            print(f"CPU while playing FLAC: {100 * cpu / cpu_wall:.1f}% of one core "
                  f"(app + output process, {cpu_wall:.0f} s)")
        results["gil_busy"] = gil_busy
        results["cpu_share_of_one_core"] = cpu / cpu_wall
    print(json.dumps(results))


if __name__ == "__main__":
    main()
