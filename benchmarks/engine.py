"""Benchmark of the gapless engine (issue 3). Not a test: prints figures, then one JSON line.

  python -m benchmarks.engine [--seconds 300]      (--seconds 20 for a smoke run)

- per codec: samples lost/added at each track boundary, and the largest step at a boundary
  against the largest step in the signal itself;
- engine decode+resample throughput against raw PyAV decoding of the same files (ratio);
- output underruns while a GIL-busy thread runs in the app process, through the real device path
  (a private PulseAudio null sink), at latency "high" (the default) for --seconds and "low" for up
  to a minute, against an in-process sounddevice stream (the baseline, up to a minute);
- CPU share of the app and its output process while playing;
- the largest gain step at the joins of the demo's live album with normalisation on, through the app's own
  PlaybackController from a real server: Auto (one album gain) against Track (each track's own, as before);
- CPU time per second of audio rendered while crossfading (6 s fades) against the same tracks played plain.
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
from collections.abc import Callable
from pathlib import Path
from typing import Self

import av
import numpy as np
import sounddevice as sd

from player import DeviceSink, Engine, FileSource, QueueFinished, QueueItem
from tests.helpers.audio_fixtures import CODECS, SPLITS, encode, make_signal, running_pulse
from tests.helpers.render_harness import TIMEOUT_S, as_float, best_lag, render, start_engine

JOIN_TRACK_S = 20.0
LIVE_ALBUM = "Lantern Room Sessions (Live)"
FADE_S = 6.0


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


def wait_processing_events(ready: Callable[[], bool]) -> None:
    """Run the Qt event loop (the controller's manifests and engine events arrive through it) until ``ready()``."""
    from PySide6.QtCore import QCoreApplication, QEventLoop  # here, not at the top: see album_joins

    app = QCoreApplication.instance() or QCoreApplication([])
    deadline = time.monotonic() + 120.0
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError("the controller did not finish playing the album")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def album_joins(folder: Path) -> dict[str, object]:
    """Gain steps at the joins of the demo's live album (normalisation on against off), Auto and Track."""
    # Imported here, not at the top: the device sink's output process is spawned and imports this module first,
    # and the app, the server and Qt would slow its start past the sink's deadline on a busy machine.
    from client import catalog
    from client.api import ApiClient
    from client.bundled import BundledServer
    from server.demo import DEMO_PASSWORD, DEMO_USER, build_demo
    from tests.helpers.gain_render import join_steps_db, play_through_controller

    build_demo(folder / "server", albums=1, seconds_per_track=JOIN_TRACK_S, progress=lambda _: None)
    server = BundledServer(folder / "server")
    url = server.start()
    login = (DEMO_USER, DEMO_PASSWORD)
    try:
        api = ApiClient(url)
        api.login(*login)
        album = next(catalog.album_with_tracks(api.album(int(raw["id"]))) for raw in api.albums()
                     if raw["title"] == LIVE_ALBUM)
        api.close()
        tracks = list(album.tracks)
        off = play_through_controller(wait_processing_events, url, login, tracks, folder / "off.wav", normalise=False)
        steps = {mode: join_steps_db(play_through_controller(wait_processing_events, url, login, tracks,
                                                             folder / f"{mode}.wav", normalise=True, mode=mode), off)
                 for mode in ("auto", "track")}
    finally:
        server.stop()
    figures: dict[str, object] = {}
    for mode, found in steps.items():
        print(f"album joins, normalisation on, {mode}: steps {', '.join(f'{step:+.3f}' for step in found)} dB "
              f"(max {max(abs(step) for step in found):.3f} dB) over {len(found)} joins of {LIVE_ALBUM}")
        figures[f"{mode}_steps_db"] = found
        figures[f"{mode}_max_step_db"] = max(abs(step) for step in found)
    return figures


def crossfade_cpu(folder: Path) -> dict[str, float]:
    """Process CPU seconds per second of audio rendered: tracks crossfading 6 s into each other, and played plain."""
    items = []
    for number in range(8):
        noise = np.random.default_rng(number).standard_normal((13 * 44100, 2)) * 0.1
        path = encode(np.round(noise * 32767).astype(np.int16), 44100, folder / f"fade{number}.flac", "flac")
        items.append(QueueItem(f"f{number}", lambda path=path: FileSource(path), frames=len(noise)))
    shares = {}
    for name, seconds in (("plain", 0.0), ("crossfading", FADE_S)):
        engine, sink, recorder = start_engine(folder / f"{name}.wav")
        engine.set_crossfade(seconds)
        engine.set_queue(items)
        started = time.process_time()
        engine.play()
        if not recorder.finished.wait(TIMEOUT_S):
            raise TimeoutError(f"the {name} render did not finish")
        cpu = time.process_time() - started
        engine.close()
        shares[name] = cpu / (sink.frames_written / 44100)
    ratio = shares["crossfading"] / shares["plain"]
    print(f"CPU per second of audio rendered (a second heard, two tracks decoded in a fade): crossfading "
          f"{1000 * shares['crossfading']:.2f} ms, plain {1000 * shares['plain']:.2f} ms (ratio {ratio:.2f})")
    return {"crossfading_cpu_s_per_audio_s": shares["crossfading"], "plain_cpu_s_per_audio_s": shares["plain"],
            "crossfading_vs_plain": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the GIL-busy play (default 300)")
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        results["boundaries"] = boundaries(folder)
        results["throughput"] = throughput(folder)
        results["album_joins"] = album_joins(folder)
        results["crossfade_cpu"] = crossfade_cpu(folder)
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
