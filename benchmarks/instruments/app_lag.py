"""The app benchmark's lag sessions (``benchmarks/app.py``): event-loop lag while Home's rows load, during skips and
during a download, each against the same app idle for as long; and what both files share. Standard library only
at the top: the cold-start child imports it.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

SKIPS = 100
HOME_LOADS = 20
WAKE_MS = 10  # how often a wait for a condition looks at it again
SKIP_INTERVAL_MS = 100
READY_TIMEOUT_S = 60.0
DOWNLOAD_TIMEOUT_S = 300.0
USER = ("demo", "demo")


class BenchmarkSetupError(RuntimeError):
    """A part the benchmark needs (keystore, server, child window, download) did not come up or finish."""


def lag_sessions(url: str, work: Path) -> dict[str, object]:
    """Skips and downloads in one app in this process, each followed by the same app idle for as long."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from benchmarks.instruments.lag_probe import LagProbe
    from client import catalog
    from client.app import App
    from client.playback.queue import Repeat
    from client.tasks import run_task

    qt = QApplication(sys.argv[:1])
    app = App(work / "lag", None, url, *USER, work / "lag" / "heard.wav")
    app.start()
    wait_until(qt, lambda: app.window is not None and app.window.library.grid.albums.rowCount() > 0
               and app.window.home.rows is not None, READY_TIMEOUT_S, "the album grid and Home's rows")
    if app.session is None or app.session.store is None or app.session.downloads is None or app.window is None:
        raise BenchmarkSetupError("the app started without its disk cache: no keystore, "
                                  "so downloads cannot be measured")
    playback, downloads, api = app.session.playback, app.session.downloads, app.session.api
    probe = LagProbe()

    def measured(session: object, done: object, timeout_s: float) -> tuple[list[float], float]:
        probe.start()
        started = time.perf_counter()
        session()  # type: ignore[operator]
        wait_until(qt, done, timeout_s, "the session")  # type: ignore[arg-type]
        probe.stop()
        return list(probe.lags_ms), time.perf_counter() - started

    def idle(seconds: float) -> list[float]:
        probe.start()
        loop = QEventLoop()
        QTimer.singleShot(round(seconds * 1000), loop.quit)
        loop.exec()
        probe.stop()
        return list(probe.lags_ms)

    home = app.window.home
    album_ids = [album.id for album in home.rows.recently_played] if home.rows is not None else []
    if not album_ids:
        raise BenchmarkSetupError("Home's rows came back without the demo user's recently played albums")
    first_tracks = {album_id: int(api.album(album_id)["tracks"][0]["id"]) for album_id in album_ids}
    loads = {"done": 0}

    def play_then_load() -> None:
        """A play of another album first (sent off the UI thread, as the app's sender does), so each load brings
        rows that changed: the played album moves to the front of Recently played, its artist's plays grow."""
        loads["done"] += 1
        if loads["done"] <= HOME_LOADS:
            album_id = album_ids[loads["done"] % len(album_ids)]
            run_task(lambda: play_of(api, first_tracks[album_id], album_id), lambda _: home.refresh(), fail)

    def fail(message: str) -> None:
        raise BenchmarkSetupError(f"a play for the Home session was refused: {message}")

    home.rows_shown.connect(play_then_load)
    home_lags, home_s = measured(play_then_load, lambda: loads["done"] > HOME_LOADS, READY_TIMEOUT_S)
    home.rows_shown.disconnect(play_then_load)
    home_idle = idle(home_s)

    tracks = [catalog.track(t) for t in api.tracks()["tracks"]]
    playback.set_repeat(Repeat.ALL)
    started_tracks: list[int] = []
    playback.track_changed.connect(lambda track: started_tracks.append(track.id))
    playback.play_context(tracks, 0)
    wait_until(qt, lambda: bool(started_tracks), READY_TIMEOUT_S, "the first track")
    skips = {"done": 0, "last_at": 0.0}
    skipper = QTimer(interval=SKIP_INTERVAL_MS)

    chosen: dict[str, int] = {}

    def skip() -> None:
        playback.next()
        skips["done"] += 1
        if skips["done"] == SKIPS:
            skipper.stop()
            skips["last_at"] = time.perf_counter()
            # The render sink runs faster than real time, so tracks also move on by themselves between skips:
            # wait for the track the last skip chose, heard after that skip.
            current = playback.current_track
            chosen["id"], chosen["mark"] = current.id if current is not None else -1, len(started_tracks)

    def last_choice_heard() -> bool:
        return bool(chosen) and chosen["id"] in started_tracks[chosen["mark"]:]

    skipper.timeout.connect(skip)
    skip_lags, skip_s = measured(skipper.start, last_choice_heard, READY_TIMEOUT_S + SKIPS * SKIP_INTERVAL_MS / 1000)
    settle_s = time.perf_counter() - skips["last_at"]
    playback.engine.stop()
    skip_idle = idle(skip_s)
    # Streaming left every track in the disk cache: forget it (not on the clock), so the download fetches them all.
    app.session.store.clear()

    albums = [catalog.album(a) for a in api.albums()]
    total = sum(album.track_count for album in albums)

    def all_done() -> bool:
        items = downloads.snapshot.items
        return len(items) == total and all(item.state == "done" for item in items)

    download_lags, download_s = measured(lambda: [downloads.pin_album(a.id, a.title) for a in albums],
                                         all_done, DOWNLOAD_TIMEOUT_S)
    download_idle = idle(download_s)
    downloaded_mb = app.session.store.stats().pinned_bytes / 1024 / 1024
    app.window.close()
    app.stop()
    print(f"skips: the last of {SKIPS} was issued {skip_s - settle_s:.1f} s in; its track started {settle_s:.1f} s "
          f"later; downloads: {downloaded_mb:.1f} MB pinned in {download_s:.1f} s")

    figures: dict[str, object] = {}
    for name, lags, idle_lags, seconds in (("home", home_lags, home_idle, home_s),
                                           ("skip", skip_lags, skip_idle, skip_s),
                                           ("download", download_lags, download_idle, download_s)):
        busy, calm = lag_figures(lags), lag_figures(idle_lags)
        print(f"lag during {describe(name, len(albums), total)} ({seconds:.1f} s): p50 {busy['p50']} ms, p99 "
              f"{busy['p99']} ms, max {busy['max']} ms; idle for as long: p50 {calm['p50']}, p99 {calm['p99']}, "
              f"max {calm['max']} ms; max ratio {busy['max'] / max(calm['max'], 0.01):.2f}")
        figures.update({f"{name}_session_s": round(seconds, 1), f"{name}_lag_p50_ms": busy["p50"],
                        f"{name}_lag_p99_ms": busy["p99"], f"{name}_lag_max_ms": busy["max"],
                        f"{name}_idle_lag_p50_ms": calm["p50"], f"{name}_idle_lag_p99_ms": calm["p99"],
                        f"{name}_idle_lag_max_ms": calm["max"],
                        f"{name}_lag_max_ratio_to_idle": round(busy["max"] / max(calm["max"], 0.01), 2)})
    figures["skip_last_track_started_after_s"] = round(settle_s, 2)
    figures["download_mb"] = round(downloaded_mb, 1)
    return figures


def describe(name: str, albums: int, tracks: int) -> str:
    if name == "home":
        return f"{HOME_LOADS} loads of Home's rows"
    if name == "skip":
        return f"{SKIPS} skips, one per {SKIP_INTERVAL_MS} ms"
    return f"the download of {albums} albums ({tracks} tracks)"


def lag_figures(lags_ms: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(lags_ms, n=100, method="inclusive")
    return {"p50": round(statistics.median(lags_ms), 2), "p99": round(cuts[98], 2), "max": round(max(lags_ms), 2)}


def wait_until(qt: object, condition: object, timeout_s: float, what: str) -> None:
    """Run the event loop until ``condition()`` holds; the loop keeps running (and the probe ticking) meanwhile.

    It sleeps between events (a timer wakes it to look at ``condition`` again): a loop that spun here would take a
    core and the GIL from the app it measures."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    wake = QTimer()
    wake.start(WAKE_MS)
    try:
        while not condition():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout_s:.0f} s for {what}")
            qt.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)  # type: ignore[attr-defined]
    finally:
        wake.stop()


def play_of(api: object, track_id: int, album_id: int) -> None:
    """One play, now, of ``track_id`` of ``album_id`` (through ``api``, a logged-in ApiClient)."""
    import uuid
    from datetime import UTC, datetime

    from client.api import ApiClient

    assert isinstance(api, ApiClient)
    api.post_plays([{"id": str(uuid.uuid4()), "track_id": track_id, "ms_played": 60_000,
                     "started_at": datetime.now(UTC).isoformat(), "completed": True, "skipped": False,
                     "context": {"kind": "album", "id": str(album_id)}}])
