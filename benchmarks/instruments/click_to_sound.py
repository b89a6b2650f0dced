"""Click to sound at a real device, for benchmarks/instant.py: the engine through DeviceSink -> PortAudio -> ALSA ->
a private PulseAudio null sink whose monitor parec records; a click is the app's cold path (one POST /manifests
with the opening audio, then the engine), the sound is the first block at the monitor holding the track's first
non-silent sample (the track's own leading silence subtracted); a resume is timed from `Engine.resume` after the
device has gone quiet. Loopback server, no injected delay."""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cache import ContentStore, FileManifest, MasterKey
from client.api import ApiClient
from client.playback.metadata_ahead import fetch_known
from player import Decoder, DeviceSink, Engine, QueueItem
from tests.helpers.audio_fixtures import Pulse, running_pulse

LAUNCHES = 5
LATER_PLAYS = 10
RESUMES = 10
_PLAYED_BEFORE_PAUSE_S = 0.2
LAUNCH_TO_CLICK_S = 1.0  # the app connects and shows its window meanwhile (longer than this in practice)
_THRESHOLD = 1e-3
_BLOCK_BYTES = 4096
_SILENCE_S = 0.3
_TIMEOUT_S = 20.0
_RATE = 48000  # Opus: the rate the app opens its stream at (client/app.py)


class Monitor:
    """parec's capture read as it arrives: when, after `arm`, a block first held sound, and when all went quiet."""

    def __init__(self, pulse: Pulse) -> None:
        self._process = subprocess.Popen(
            ["parec", "-d", "nullsink.monitor", "--format=float32le", "--rate=44100", "--channels=2", "--raw",
             "--latency-msec=10"], stdout=subprocess.PIPE, env=pulse.env)
        self._armed = False
        self.onset: float | None = None
        self.last_sound = time.perf_counter()
        self._heard = threading.Event()
        self._thread = threading.Thread(target=self._read, name="monitor", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        descriptor = self._process.stdout.fileno()
        while block := os.read(descriptor, _BLOCK_BYTES):
            now = time.perf_counter()
            samples = np.frombuffer(block[:len(block) // 4 * 4], "<f4")
            if samples.size and float(np.abs(samples).max()) > _THRESHOLD:
                self.last_sound = now
                if self._armed and self.onset is None:
                    self.onset = now
                    self._heard.set()

    def wait_quiet(self) -> None:
        deadline = time.monotonic() + _TIMEOUT_S
        while time.perf_counter() - self.last_sound < _SILENCE_S:
            if time.monotonic() > deadline:
                raise TimeoutError("the monitor never went quiet")
            time.sleep(0.01)

    def arm(self) -> None:
        self.onset, self._armed = None, True
        self._heard.clear()

    def wait_onset(self) -> float:
        if not self._heard.wait(_TIMEOUT_S):
            raise TimeoutError(f"no sound reached the monitor within {_TIMEOUT_S} s")
        self._armed = False
        assert self.onset is not None
        return self.onset

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(10)
        self._thread.join(5)


def _lead_s(store: ContentStore, manifest: FileManifest) -> float:
    """How long the track itself is silent at its start (subtracted from what the monitor hears)."""
    audio = Decoder(store.open(manifest), manifest.frames).read_all()
    loud = np.flatnonzero(np.abs(audio).max(axis=1) > _THRESHOLD)
    return float(loud[0]) / manifest.sample_rate if loud.size else 0.0


class Clicker:
    """The app's cold click: one POST /manifests (manifests, licence, opening chunk), then the engine plays."""

    def __init__(self, api: ApiClient, store: ContentStore, track_ids: list[int]) -> None:
        self._api, self._store, self._track_ids = api, store, track_ids
        self.leads: dict[int, float] = {}
        known = fetch_known(api, track_ids, "high", store)
        for track_id in track_ids:
            self.leads[track_id] = _lead_s(store, known[track_id].manifest)
        self.plays = 0

    def forget(self) -> None:
        """Nothing of any track cached or known: the next click is cold."""
        self._store.clear()

    def click(self, engine: Engine, track_id: int) -> None:
        known = fetch_known(self._api, [track_id], "high", self._store, opening_track_id=track_id)
        manifest = known[track_id].manifest
        store = self._store
        self.plays += 1
        engine.set_queue([QueueItem(f"{self.plays}", lambda: store.open(manifest), frames=manifest.frames)], 0)
        engine.play()


def _one(monitor: Monitor, clicker: Clicker, engine: Engine, track_id: int) -> float:
    clicker.forget()
    monitor.wait_quiet()
    monitor.arm()
    clicked = time.perf_counter()
    clicker.click(engine, track_id)
    return monitor.wait_onset() - clicked - clicker.leads[track_id]


def _resume(monitor: Monitor, engine: Engine) -> float:
    """Let the playing track sound a moment, pause until the device is quiet, and time the resume to sound."""
    time.sleep(_PLAYED_BEFORE_PAUSE_S)
    engine.pause()
    monitor.wait_quiet()
    monitor.arm()
    resumed = time.perf_counter()
    engine.resume()
    return monitor.wait_onset() - resumed


def _launch(pulse: Pulse, monitor: Monitor, clicker: Clicker, track_id: int, wait_s: float | None) -> float:
    """A fresh output process; prepared at launch and clicked `wait_s` later, or (None) opened by the click."""
    sink = DeviceSink("pulse")
    if wait_s is not None:
        sink.prepare(_RATE)
        time.sleep(wait_s)  # the user has not clicked yet: nothing is being waited for
    engine = Engine(sink)
    try:
        return _one(monitor, clicker, engine, track_id)
    finally:
        engine.close()


def measure(url: str, token: str, work: Path, log: Callable[[str], None]) -> dict[str, float]:
    """The figures in ms: first play after launch (three ways), later plays and resumes, p50 (and max for the
    last two)."""
    with running_pulse(work / "pulse") as pulse:
        saved = os.environ.get("PULSE_SERVER")
        os.environ["PULSE_SERVER"] = pulse.server
        api = ApiClient(url, token)
        store = ContentStore(work / "device-cache", api, api, MasterKey(os.urandom(32)))
        monitor = Monitor(pulse)
        try:
            track_ids = [int(t["id"]) for t in api.album(int(api.albums()[0]["id"]))["tracks"]]
            clicker = Clicker(api, store, track_ids)
            figures: dict[str, list[float]] = {"first_prepared": [], "first_at_once": [], "first_unprepared": []}
            for launch in range(LAUNCHES):
                track = track_ids[launch % len(track_ids)]
                figures["first_prepared"].append(_launch(pulse, monitor, clicker, track, LAUNCH_TO_CLICK_S))
                figures["first_at_once"].append(_launch(pulse, monitor, clicker, track, 0.0))
                figures["first_unprepared"].append(_launch(pulse, monitor, clicker, track, None))
                log(f"launch {launch + 1}/{LAUNCHES} measured")
            sink = DeviceSink("pulse")
            sink.prepare(_RATE)
            engine = Engine(sink)
            later = []
            try:
                _one(monitor, clicker, engine, track_ids[0])
                for play in range(LATER_PLAYS):
                    engine.stop()
                    later.append(_one(monitor, clicker, engine, track_ids[(play + 1) % len(track_ids)]))
                resumes = [_resume(monitor, engine) for _ in range(RESUMES)]
            finally:
                engine.close()
        finally:
            monitor.close()
            store.close()
            api.close()
            if saved is None:
                os.environ.pop("PULSE_SERVER", None)
            else:
                os.environ["PULSE_SERVER"] = saved
    result = {f"device_{case}_p50_ms": round(statistics.median(values) * 1000, 1) for case, values in figures.items()}
    result["device_later_p50_ms"] = round(statistics.median(later) * 1000, 1)
    result["device_later_max_ms"] = round(max(later) * 1000, 1)
    result["device_resume_p50_ms"] = round(statistics.median(resumes) * 1000, 1)
    result["device_resume_max_ms"] = round(max(resumes) * 1000, 1)
    return result
