"""Network faults while playing: the audio gap when the server drops for 1, 5 and 30 s, and the time from the
server's return to audio continuing, with the next track cached vs not.

Runs the bundled server on a fresh demo catalog, the real ContentStore (app defaults: 4 chunks of read-ahead,
the next track's opening prefetched into RAM) and the real Engine on a RenderSink paced like a device (real
time, silence when the ring is dry). The "network drop" stops the server process (connections refused) and
starts it again on the same port. With the default bound (30 s) every drop here comes back in time; two more
runs use a 10 s bound so that the 30 s drop outlives it and the queue has to move on. The gap figures are also
given as a ratio to the drop itself (1.0: every second of outage was heard; 0: none was).
Last, the latency of a skip (Next to the next track's first frame heard, next track cached) while a read hangs
on a server that accepts connections and never answers (the process SIGSTOPped, the app's 10 s HTTP timeout),
as a ratio to the same skip with the server healthy.
Prints human lines; the last line is one JSON object.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cache import ContentStore, FileManifest, MasterKey, PrefetchItem
from client.api import ApiClient
from client.bundled import BundledServer
from player import (
    Engine,
    Event,
    PlaybackError,
    QueueFinished,
    QueueItem,
    Reconnected,
    RenderSink,
    TrackStarted,
)
from server.demo import build_demo

SECONDS_PER_TRACK = 50.0
QUALITY = "high"  # what the app streams by default
DROP_AT_S = 3.0  # into the first track, once the engine and the read-ahead are in their steady state
DROPS_S = (1.0, 5.0, 30.0)
SHORT_BOUND_S = 10.0
SETTLE_S = 3.0  # audio after the outcome, so a late second gap would show
POLL_S = 0.005
TIMEOUT_S = 120.0


@dataclass
class Watch:
    """Engine listener: when each event arrived."""

    events: list[tuple[float, Event]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: Event) -> None:
        with self.lock:
            self.events.append((time.monotonic(), event))

    def first(self, kind: type) -> tuple[float, Event] | None:
        with self.lock:
            return next(((at, e) for at, e in self.events if isinstance(e, kind)), None)

    def of(self, kind: type) -> list[Event]:
        with self.lock:
            return [e for _, e in self.events if isinstance(e, kind)]


@dataclass(frozen=True)
class Outcome:
    drop_s: float
    bound_s: float
    next_cached: bool
    gap_s: float
    return_to_audio_ms: float | None
    continued_same_track: bool
    next_track_played: bool
    queue_ended: bool

    @property
    def label(self) -> str:
        return f"drop{self.drop_s:.0f}s_bound{self.bound_s:.0f}s_{'cached' if self.next_cached else 'uncached'}"


class Server:
    """The bundled server, stopped and started again on the same port."""

    def __init__(self, data_dir: Path) -> None:
        self._handle = BundledServer(data_dir)
        self.url = self._handle.start()
        self._port = int(self.url.rsplit(":", 1)[1])
        self._data_dir = data_dir

    def stop(self) -> None:
        self._handle.stop()

    def start_again(self) -> None:
        self._handle = BundledServer(self._data_dir, self._port)
        self._handle.start()

    def signal(self, number: signal.Signals) -> None:
        """SIGSTOP: the kernel still accepts connections, nothing answers them; SIGCONT: it serves again."""
        process = self._handle._process  # BundledServer keeps its process to itself
        assert process is not None
        os.kill(process.pid, number)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(POLL_S)


def queue_item(store: ContentStore, manifest: FileManifest) -> QueueItem:
    return QueueItem(str(manifest.file_id), lambda: store.open(manifest), manifest.frames,
                     playable_offline=lambda: store.playable_offline(manifest))


def engine_silent(engine: Engine, window_s: float) -> bool:
    """Whether the output took no audio from the ring over the last `window_s` (it is playing silence)."""
    before = engine.frames_played
    time.sleep(window_s)
    return engine.frames_played == before


def one_run(server: Server, api: ApiClient, files: list[FileManifest], work: Path, drop_s: float,
            bound_s: float, next_cached: bool) -> Outcome:
    store = ContentStore(work / "cache", api, api, MasterKey(os.urandom(32)))
    store.clear()
    if next_cached:
        for manifest in files[1:]:
            store.open(manifest).read_at(0, manifest.size_bytes)
    store.plan_prefetch([PrefetchItem(m, m.duration_s) for m in files[1:4]])
    store.wait_prefetched(TIMEOUT_S)
    sink = RenderSink(work / "heard.wav", speed=1.0)
    watch = Watch()
    engine = Engine(sink, watch, reconnect_s=bound_s)
    engine.set_queue([queue_item(store, m) for m in files])
    rate = files[0].sample_rate
    try:
        engine.play()
        wait_until(lambda: engine.frames_played >= DROP_AT_S * rate, "the first track to play")
        server.stop()
        time.sleep(drop_s - POLL_S * 20)  # the outage being measured (the silence check takes the rest)
        silent = engine_silent(engine, POLL_S * 20)
        server.start_again()
        back = time.monotonic()
        return_to_audio_ms = None
        if silent:  # the drop was heard: how soon after the server is back does the music go on?
            before = engine.frames_played
            wait_until(lambda: engine.frames_played > before or watch.first(QueueFinished) is not None,
                       "audio after the server's return")
            if engine.frames_played > before:
                return_to_audio_ms = (time.monotonic() - back) * 1000
        settled = engine.frames_played
        wait_until(lambda: engine.frames_played >= settled + SETTLE_S * rate or watch.first(QueueFinished) is not None,
                   "the audio to settle")
        gap_s = sink.silent_frames / rate  # before closing: the fade-out on close is not a gap
    finally:
        engine.close()
        store.close()
    started = [e.index for e in watch.of(TrackStarted) if isinstance(e, TrackStarted)]
    errors = [e for e in watch.of(PlaybackError) if isinstance(e, PlaybackError)]
    if any(e.index < 0 for e in errors):
        raise RuntimeError(f"the output failed: {errors}")
    return Outcome(drop_s, bound_s, next_cached, gap_s, return_to_audio_ms,
                   continued_same_track=bool(watch.of(Reconnected)) or not errors,
                   next_track_played=1 in started, queue_ended=watch.first(QueueFinished) is not None)


def skip_run(server: Server, api: ApiClient, files: list[FileManifest], work: Path, hung: bool) -> float:
    """Milliseconds from Next to the next (cached) track's first frame heard, the first track only partly here;
    with `hung`, Next comes while the first track's read hangs on the stopped server and the output is dry."""
    store = ContentStore(work / "cache", api, api, MasterKey(os.urandom(32)))
    store.clear()
    store.open(files[1]).read_at(0, files[1].size_bytes)
    store.plan_prefetch([PrefetchItem(files[0], files[0].duration_s)])
    store.wait_prefetched(TIMEOUT_S)
    watch = Watch()
    engine = Engine(RenderSink(work / "heard.wav", speed=1.0), watch)
    engine.set_queue([queue_item(store, m) for m in files[:2]])
    rate = files[0].sample_rate
    try:
        engine.play()
        wait_until(lambda: engine.frames_played >= DROP_AT_S * rate, "the first track to play")
        if hung:
            server.signal(signal.SIGSTOP)
            wait_until(lambda: engine_silent(engine, POLL_S * 20), "the hung read to leave the output dry")
        asked = time.monotonic()
        engine.next()
        wait_until(lambda: any(e.index == 1 for e in watch.of(TrackStarted) if isinstance(e, TrackStarted)),
                   "the next track to be heard")
        started = next(at for at, e in watch.events if isinstance(e, TrackStarted) and e.index == 1)
    finally:
        if hung:
            server.signal(signal.SIGCONT)
        engine.close()
        store.close()
    return (started - asked) * 1000


def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # the engine logs every stall and retry; the figures are the point
    with tempfile.TemporaryDirectory(prefix="legato-faults-") as temp:
        work = Path(temp)
        print(f"building a demo catalog ({SECONDS_PER_TRACK:.0f} s tracks) ...", flush=True)
        build_demo(work / "server", albums=1, seconds_per_track=SECONDS_PER_TRACK, progress=lambda _: None)
        server = Server(work / "server")
        api = ApiClient(server.url)
        try:
            api.login("demo", "demo")
            tracks = api.album(int(api.albums()[0]["id"]))["tracks"]
            files = []
            for track in tracks:
                by_quality = {f["quality"]: f for f in api.manifest(int(track["id"]))["files"]}
                files.append(FileManifest.from_json(by_quality[QUALITY]))
            runs = [(drop, 30.0, cached) for drop in DROPS_S for cached in (True, False)]
            runs += [(30.0, SHORT_BOUND_S, cached) for cached in (True, False)]
            outcomes = []
            for drop_s, bound_s, cached in runs:
                outcome = one_run(server, api, files, work, drop_s, bound_s, cached)
                outcomes.append(outcome)
                back = "-" if outcome.return_to_audio_ms is None else f"{outcome.return_to_audio_ms:7.0f} ms"
                print(f"drop {drop_s:4.0f} s, bound {bound_s:3.0f} s, next {'cached  ' if cached else 'uncached'}: "
                      f"gap {outcome.gap_s:6.2f} s ({outcome.gap_s / drop_s:4.2f} of the drop), "
                      f"return->audio {back}, same track went on: {outcome.continued_same_track}, "
                      f"next track played: {outcome.next_track_played}, queue ended: {outcome.queue_ended}",
                      flush=True)
            skip_ms = {hung: skip_run(server, api, files, work, hung) for hung in (False, True)}
            print(f"skip to a cached track: {skip_ms[False]:7.1f} ms with the server healthy, "
                  f"{skip_ms[True]:7.1f} ms while a read hangs ({skip_ms[True] / skip_ms[False]:.2f}x)", flush=True)
        finally:
            api.close()
            server.stop()
    figures: dict[str, object] = {"quality": QUALITY, "drop_at_s": DROP_AT_S}
    for outcome in outcomes:
        figures[f"{outcome.label}_gap_s"] = round(outcome.gap_s, 3)
        figures[f"{outcome.label}_gap_ratio_to_drop"] = round(outcome.gap_s / outcome.drop_s, 3)
        figures[f"{outcome.label}_return_to_audio_ms"] = (
            None if outcome.return_to_audio_ms is None else round(outcome.return_to_audio_ms, 1))
        figures[f"{outcome.label}_same_track_went_on"] = outcome.continued_same_track
        figures[f"{outcome.label}_next_track_played"] = outcome.next_track_played
        figures[f"{outcome.label}_queue_ended"] = outcome.queue_ended
    figures["skip_healthy_ms"] = round(skip_ms[False], 1)
    figures["skip_while_hung_ms"] = round(skip_ms[True], 1)
    figures["skip_while_hung_ratio_to_healthy"] = round(skip_ms[True] / skip_ms[False], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
