"""Instant playback: time from "Next" to the next track's first sample reaching the sink, and cache throughput.

Runs the bundled server on a fresh demo catalog with 100 ms injected into every request (chunk ranges and
licences), the real Engine with a manually pumped RenderSink, and the real ContentStore. Three cases over 50
skips each: not prefetched (cache cleared before every skip), prefetched into RAM, and disk-cached.
Then read + verify + decrypt throughput of a disk-cached file, as a ratio to `openssl speed -evp aes-128-ctr`.
The master key is a random in-memory key: the keystore is not on the measured path.
Prints human lines; the last line is one JSON object.
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

from cache import ContentStore, FileKey, FileManifest, MasterKey, PrefetchItem
from client.api import ApiClient
from client.bundled import BundledServer
from player import Engine, Event, QueueItem, RenderSink, TrackStarted
from server.demo import build_demo

DELAY_S = 0.100
SKIPS = 50
SECONDS_PER_TRACK = 20.0
PUMP_FRAMES = 256
TIMEOUT_S = 30.0
PERIOD_FRAMES = 1024


class DelayedApi:
    """The real API client with a fixed delay injected before every request, as a far-away server would add."""

    def __init__(self, api: ApiClient, delay_s: float) -> None:
        self._api = api
        self._delay_s = delay_s

    def fetch(self, manifest: FileManifest, start: int, end: int) -> bytes:
        time.sleep(self._delay_s)
        return self._api.fetch(manifest, start, end)

    def licence(self, file_id: int) -> FileKey:
        time.sleep(self._delay_s)
        return self._api.licence(file_id)


class StartClock:
    """Engine listener noting when each queue index's first sample was consumed by the sink."""

    def __init__(self) -> None:
        self._started: dict[int, float] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if isinstance(event, TrackStarted):
            with self._lock:
                self._started.setdefault(event.index, time.perf_counter())

    def started_at(self, index: int) -> float | None:
        with self._lock:
            return self._started.get(index)


def pump_until_started(sink: RenderSink, clock: StartClock, index: int) -> float:
    deadline = time.monotonic() + TIMEOUT_S
    while (started := clock.started_at(index)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"queue item {index} did not start within {TIMEOUT_S} s")
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
        pump_until_started(sink, clock, 0)
        for index in range(1, SKIPS + 1):
            before_skip(queue[index : index + 3])
            pressed = time.perf_counter()
            engine.next()
            latencies.append(pump_until_started(sink, clock, index) - pressed)
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
        api = ApiClient(server.start())
        try:
            api.login("demo", "demo")
            figures = run(api, work)
        finally:
            api.close()
            server.stop()
    for line in figures.pop("lines"):
        print(line)
    print(json.dumps(figures))


def run(api: ApiClient, work: Path) -> dict[str, object]:
    album = api.album(int(api.albums()[0]["id"]))
    manifests = []
    for track in album["tracks"]:
        files = {f["quality"]: f for f in api.manifest(int(track["id"]))["files"]}
        manifests.append(FileManifest.from_json(files["high"]))
    delayed = DelayedApi(api, DELAY_S)
    master_key = MasterKey(os.urandom(32))
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
    for case, figures in results.items():
        lines.append(f"Next, {case:15s}: p50 {figures['p50_ms']:7.2f} ms   p95 {figures['p95_ms']:7.2f} ms")
    lines.append(f"cache read+verify+decrypt: {cache_bps / 1e6:8.1f} MB/s; openssl aes-128-ctr "
                 f"({big.chunk_size} B blocks): {openssl_bps / 1e6:8.1f} MB/s; ratio {cache_bps / openssl_bps:.3f}")
    lines.append(f"disk-cached store stats (incl. the throughput reads): plays ram/disk/network "
                 f"{stats.plays_from_ram}/{stats.plays_from_disk}/"
                 f"{stats.plays_from_network}, hit ratio {stats.hit_ratio:.2f}, bytes saved {stats.bytes_saved}")
    return {
        "lines": lines, "delay_ms": DELAY_S * 1000, "skips": SKIPS, "audio_period_ms": round(period_ms, 2),
        **{f"next_{case}_{k}": v for case, figures in results.items() for k, v in figures.items()},
        "prefetched_p95_within_one_period": results["prefetched"]["p95_ms"] <= period_ms,
        "cache_read_verify_decrypt_mb_s": round(cache_bps / 1e6, 1),
        "openssl_aes_128_ctr_mb_s": round(openssl_bps / 1e6, 1),
        "cache_throughput_vs_openssl": round(cache_bps / openssl_bps, 4),
    }


if __name__ == "__main__":
    main()
