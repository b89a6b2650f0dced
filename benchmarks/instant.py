"""Instant playback: time from a click or "Next" to the track's first sample reaching the sink, click to sound at a
real device, and cache throughput.

Runs the bundled server on a fresh demo catalog with 100 ms injected into every request (manifests, licences, chunk
ranges), the real Engine with a manually pumped RenderSink, and the real ContentStore. Clicks, as the app makes them:
cold (nothing known: one POST /manifests with the opening audio, then the engine) and a visible row (its metadata
fetched ahead, its audio not). Next over 50 skips in three cases: not prefetched (cache cleared before every skip),
prefetched into RAM, and disk-cached. Then click to sound at a device (instruments/click_to_sound.py: loopback,
no injected delay, a private PulseAudio null sink recorded with parec), and read + verify + decrypt throughput of a
disk-cached file, as a ratio to `openssl speed -evp aes-128-ctr`. The master key is a random in-memory key: the
keystore is not on the measured path. Prints human lines; the last line is one JSON object.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.instruments import click_to_sound
from cache import ContentStore, FileManifest, MasterKey, PrefetchItem
from client.api import ApiClient
from client.bundled import BundledServer
from client.playback.metadata_ahead import fetch_known
from player import Engine, Event, QueueItem, RenderSink, TrackStarted
from server.demo import build_demo

DELAY_S = 0.100
SKIPS = 50
CLICKS = 30
WINDOW = 5  # the entries the app's first request asks for: the clicked one and the next four
ANCHOR_MS = 265  # Spotify's median across all plays (Kreitz & Niemelä, 2010)
SECONDS_PER_TRACK = 20.0
PUMP_FRAMES = 256
TIMEOUT_S = 30.0
PERIOD_FRAMES = 1024


class DelayedApi(ApiClient):
    """The real API client with a fixed delay injected before every request, as a far-away server would add."""

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        time.sleep(DELAY_S)
        return super().request_json(method, path, **kwargs)

    def fetch(self, manifest: FileManifest, start: int, end: int) -> bytes:
        time.sleep(DELAY_S)
        return super().fetch(manifest, start, end)


class StartClock:
    """Engine listener noting when each queue item's (by key) first sample was consumed by the sink."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if isinstance(event, TrackStarted):
            with self._lock:
                self._started.setdefault(event.key, time.perf_counter())

    def started_at(self, key: str) -> float | None:
        with self._lock:
            return self._started.get(key)


def pump_until_started(sink: RenderSink, clock: StartClock, key: str) -> float:
    deadline = time.monotonic() + TIMEOUT_S
    while (started := clock.started_at(key)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"queue item {key} did not start within {TIMEOUT_S} s")
        if sink.advance(PUMP_FRAMES, timeout_s=TIMEOUT_S) == 0:
            time.sleep(0.0005)
    return started


def skip_latencies(store: ContentStore, manifests: list[FileManifest], workdir: Path,
                   before_skip: Callable[[list[FileManifest]], None]) -> list[float]:
    queue = [manifests[i % len(manifests)] for i in range(SKIPS + 1)]
    items = [QueueItem(str(i), (lambda m=m: store.open(m)), frames=m.frames) for i, m in enumerate(queue)]
    sink = RenderSink(workdir / f"out-{time.monotonic_ns()}.wav", manual=True)
    clock = StartClock()
    engine = Engine(sink, listener=clock)
    latencies = []
    try:
        engine.set_queue(items, 0)
        engine.play()
        pump_until_started(sink, clock, "0")
        for index in range(1, SKIPS + 1):
            before_skip(queue[index : index + 3])
            pressed = time.perf_counter()
            engine.next()
            latencies.append(pump_until_started(sink, clock, str(index)) - pressed)
    finally:
        engine.close()
    return latencies


def click_latencies(api: DelayedApi, store: ContentStore, track_ids: list[int], workdir: Path,
                    ahead: bool) -> list[float]:
    """Clicks on tracks whose audio is not cached, as the controller plays them: with `ahead`, their metadata was
    fetched before the click (a visible row); without, the click asks for it with the opening audio at once."""
    sink = RenderSink(workdir / f"click-{time.monotonic_ns()}.wav", manual=True)
    clock = StartClock()
    engine = Engine(sink, listener=clock)
    latencies = []
    try:
        for click in range(CLICKS):
            window = [track_ids[(click + i) % len(track_ids)] for i in range(WINDOW)]
            store.clear()
            known = fetch_known(api, window, "high", store) if ahead else {}
            pressed = time.perf_counter()
            if not ahead:
                known = fetch_known(api, window, "high", store, opening_track_id=window[0])
            manifest = known[window[0]].manifest
            engine.set_queue([QueueItem(str(click), lambda m=manifest: store.open(m), frames=manifest.frames)], 0)
            engine.play()
            latencies.append(pump_until_started(sink, clock, str(click)) - pressed)
    finally:
        engine.close()
    return latencies


def percentiles_ms(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return {"p50_ms": round(statistics.median(samples) * 1000, 2), "p95_ms": round(cuts[18] * 1000, 2)}


def read_throughput(store: ContentStore, manifest: FileManifest) -> float:
    """Bytes per second of read + SHA-256 verify + decrypt of a disk-cached file through a fresh Source."""
    total, started = 0, time.perf_counter()
    while time.perf_counter() - started < 2.0:
        source = store.open(manifest)
        for offset in range(0, manifest.size_bytes, manifest.chunk_size):
            total += len(source.read_at(offset, manifest.chunk_size))
    return total / (time.perf_counter() - started)


def openssl_ctr_bytes_per_s(block: int) -> float:
    out = subprocess.run(["openssl", "speed", "-evp", "aes-128-ctr", "-seconds", "2", "-bytes", str(block)],
                         capture_output=True, text=True, check=True).stdout
    match = re.search(r"^aes-128-ctr\s+([\d.]+)k", out, re.MULTILINE | re.IGNORECASE)
    if match is None:
        raise RuntimeError(f"cannot read openssl speed output:\n{out}")
    return float(match.group(1)) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="legato-instant-") as temp:
        work = Path(temp)
        print(f"building a demo catalog ({SECONDS_PER_TRACK:.0f} s tracks) ...", flush=True)
        build_demo(work / "server", albums=1, seconds_per_track=SECONDS_PER_TRACK, progress=lambda _: None)
        server = BundledServer(work / "server")
        url = server.start()
        api = DelayedApi(url)
        try:
            api.login("demo", "demo")
            figures = run(api, work)
            print("measuring click to sound at a PulseAudio null sink ...", flush=True)
            assert api.token is not None
            device = click_to_sound.measure(url, api.token, work, print)
            figures.update(device)
            lines = figures["lines"]
            assert isinstance(lines, list)
            lines.append(f"click to sound at a device (loopback, no injected delay; anchor {ANCHOR_MS} ms): first "
                         f"play after launch, stream opened at launch, click {click_to_sound.LAUNCH_TO_CLICK_S:.0f} s "
                         f"later: p50 {device['device_first_prepared_p50_ms']} ms; click at the instant of launch: "
                         f"p50 {device['device_first_at_once_p50_ms']} ms; stream opened by the click (as before): "
                         f"p50 {device['device_first_unprepared_p50_ms']} ms; later plays: p50 "
                         f"{device['device_later_p50_ms']} ms, max {device['device_later_max_ms']} ms; resume from "
                         f"pause: p50 {device['device_resume_p50_ms']} ms, max {device['device_resume_max_ms']} ms")
        finally:
            api.close()
            server.stop()
    for line in figures.pop("lines"):
        print(line)
    print(json.dumps(figures))


def run(api: DelayedApi, work: Path) -> dict[str, object]:
    album = api.album(int(api.albums()[0]["id"]))
    track_ids = [int(track["id"]) for track in album["tracks"]]
    manifests = []
    for track_id in track_ids:
        files = {f["quality"]: f for f in api.manifest(track_id)["files"]}
        manifests.append(FileManifest.from_json(files["high"]))
    delayed = api
    master_key = MasterKey(os.urandom(32))
    clicks: dict[str, dict[str, float]] = {}
    store = ContentStore(work / "clicks", delayed, delayed, master_key)
    clicks["cold"] = percentiles_ms(click_latencies(api, store, track_ids, work, ahead=False))
    clicks["visible_row"] = percentiles_ms(click_latencies(api, store, track_ids, work, ahead=True))
    store.close()
    results: dict[str, dict[str, float]] = {}

    store = ContentStore(work / "cold", delayed, delayed, master_key)
    results["not_prefetched"] = percentiles_ms(
        skip_latencies(store, manifests, work, lambda upcoming: store.clear()))
    store.close()

    store = ContentStore(work / "ram", delayed, delayed, master_key)

    def prefetch(upcoming: list[FileManifest]) -> None:
        store.clear()
        store.plan_prefetch([PrefetchItem(m, m.duration_s) for m in upcoming])
        if not store.wait_prefetched(TIMEOUT_S):
            raise TimeoutError("prefetch did not finish")

    results["prefetched"] = percentiles_ms(skip_latencies(store, manifests, work, prefetch))
    store.close()

    store = ContentStore(work / "disk", delayed, delayed, master_key)
    for manifest in manifests:
        store.open(manifest).read_at(0, manifest.size_bytes)
    results["disk_cached"] = percentiles_ms(
        skip_latencies(store, manifests, work, lambda upcoming: store.plan_prefetch([])))
    lossless = {f["quality"]: f for f in api.manifest(int(album["tracks"][0]["id"]))["files"]}["lossless"]
    big = FileManifest.from_json(lossless)
    store.open(big).read_at(0, big.size_bytes)
    cache_bps = read_throughput(store, big)
    stats = store.stats()
    store.close()
    openssl_bps = openssl_ctr_bytes_per_s(big.chunk_size)

    period_ms = PERIOD_FRAMES / manifests[0].sample_rate * 1000
    lines = [(f"injected delay per request: {DELAY_S * 1000:.0f} ms; {SKIPS} skips per case; "
              f"one audio period = {PERIOD_FRAMES} frames = {period_ms:.1f} ms"),
             ("measured: engine.next() -> TrackStarted of the new item, i.e. its first frame consumed by a "
              "manually pumped RenderSink (the nearest honest equivalent of 'handed to the device')")]
    for case, figures in clicks.items():
        lines.append(f"click, {case:14s}: p50 {figures['p50_ms']:7.2f} ms   p95 {figures['p95_ms']:7.2f} ms   "
                     f"(anchor: {ANCHOR_MS} ms median, Spotify 2010)")
    for case, figures in results.items():
        lines.append(f"Next, {case:15s}: p50 {figures['p50_ms']:7.2f} ms   p95 {figures['p95_ms']:7.2f} ms")
    lines.append(f"cache read+verify+decrypt: {cache_bps / 1e6:8.1f} MB/s; openssl aes-128-ctr "
                 f"({big.chunk_size} B blocks): {openssl_bps / 1e6:8.1f} MB/s; ratio {cache_bps / openssl_bps:.3f}")
    lines.append(f"disk-cached store stats (incl. the throughput reads): plays ram/disk/network "
                 f"{stats.plays_from_ram}/{stats.plays_from_disk}/"
                 f"{stats.plays_from_network}, hit ratio {stats.hit_ratio:.2f}, bytes saved {stats.bytes_saved}")
    return {
        "lines": lines, "delay_ms": DELAY_S * 1000, "skips": SKIPS, "clicks": CLICKS, "anchor_ms": ANCHOR_MS,
        "audio_period_ms": round(period_ms, 2),
        **{f"click_{case}_{k}": v for case, figures in clicks.items() for k, v in figures.items()},
        **{f"next_{case}_{k}": v for case, figures in results.items() for k, v in figures.items()},
        "prefetched_p95_within_one_period": results["prefetched"]["p95_ms"] <= period_ms,
        "cache_read_verify_decrypt_mb_s": round(cache_bps / 1e6, 1),
        "openssl_aes_128_ctr_mb_s": round(openssl_bps / 1e6, 1),
        "cache_throughput_vs_openssl": round(cache_bps / openssl_bps, 4),
    }


if __name__ == "__main__":
    main()
