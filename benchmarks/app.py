"""The desktop app: cold start to a filled Home, RSS with a 10,000-track table, event-loop lag while Home loads, while
skipping and while downloading.

Runs the bundled server on a fresh 10-album demo catalog (8 s tracks) and a private gnome-keyring on a private
D-Bus session bus (the app's disk cache and downloads need the OS keystore), with Qt's offscreen platform. The demo
user is given a history first (the first tracks of each album), so Home's rows have cards.
- Cold start: a child process that imports the app, opens the window on the running server and stops the clock
  when the album grid is filled and Home's rows show what the server sent, timed from just before the process is
  spawned; median of several runs, after one discarded warm-up (hot page cache, keystore entry already made, every
  module's bytecode cached: children write it under a private PYCACHEPREFIX even where PYTHONDONTWRITEBYTECODE is
  set, as an installed app's is, so a run does not time the compiling of ~150 of Legato's modules).
  Baseline: a child showing a bare QMainWindow.
- RSS: a child app, ready, then 10,000 track records (the server's records, copied with fresh ids and titles) shown
  in the album page's TrackTable and scrolled top to bottom a page at a time. Baselines: the same process before
  loading, and a bare PySide6 process (QApplication + shown QMainWindow).
- Lag: the LagProbe in an app on a free-running RenderSink, while Home's rows load 20 times in a row (each after a
  play of another album, sent off the UI thread, so each read of ``GET /me/home`` brings rows that changed), during
  100 skips (one every 100 ms, the event loop running between them) and during the download of all 10 albums;
  baseline: the same app idle for as long.
  The render sink decodes faster than real time, so the skip session is a harsher CPU/GIL load than a sound card.
Prints human lines; the last line is one JSON object.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from client.views.window import MainWindow

from benchmarks.instruments.app_lag import READY_TIMEOUT_S, USER, BenchmarkSetupError, lag_sessions

# Only the standard library above (and at the top of instruments/app_lag.py): this file is also the cold-start
# child, whose imports are what is measured.
ROOT = Path(__file__).resolve().parents[1]

ALBUMS = 10
SECONDS_PER_TRACK = 8.0
COLD_RUNS = 5
LIBRARY_TRACKS = 10_000
HISTORY_TRACKS_PER_ALBUM = 3  # the demo user's plays of each album: some, not all (Home's "Jump back in")
READY = "READY"


def mb(kb: object) -> float:
    return round(int(kb) / 1024, 1)  # type: ignore[call-overload]


def rss_kb() -> tuple[int, int]:
    """This process's resident set size and its peak, in KiB (Linux /proc)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


# -- children: each prints one READY line with its figures as JSON, then exits at once -------------------------

def child_bare() -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    qt = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1200, 760)
    window.show()
    QTimer.singleShot(0, lambda: report_and_exit({"rss_kb": rss_kb()[0]}))
    qt.exec()


def child_app(url: str, data_dir: str, then_load_library: bool) -> None:
    from PySide6.QtWidgets import QApplication

    from client.app import App  # not the window's module: the app imports it while it connects, as it would alone

    qt = QApplication(sys.argv[:1])
    app = App(Path(data_dir), None, url, *USER, Path(data_dir) / "heard.wav")

    def on_window_opened(window: MainWindow) -> None:
        albums = window.library.grid.albums

        def on_filled() -> None:
            if albums.rowCount() > 0 and window.home.rows is not None:
                albums.modelReset.disconnect(on_filled)
                window.home.rows_shown.disconnect(on_filled)
                if then_load_library:
                    report_and_exit(load_and_scroll_library(app, qt))
                report_and_exit({"rss_kb": rss_kb()[0]})

        albums.modelReset.connect(on_filled)
        window.home.rows_shown.connect(on_filled)

    app.window_opened.connect(on_window_opened)
    app.start()
    qt.exec()


def load_and_scroll_library(app: object, qt: object) -> dict[str, object]:
    """RSS before, after loading 10,000 tracks into the album page's table, and after scrolling it to the end."""
    import dataclasses
    import itertools

    from client import catalog
    from client.app import App

    assert isinstance(app, App) and app.session is not None and app.window is not None
    qt.processEvents()  # type: ignore[attr-defined]
    before = rss_kb()[0]
    real = [catalog.track(t) for t in app.session.api.tracks()["tracks"]]
    tracks = tuple(dataclasses.replace(track, id=1_000_000 + i, title=f"{track.title} ({i})")
                   for i, track in zip(range(LIBRARY_TRACKS), itertools.cycle(real)))
    library = catalog.AlbumWithTracks(id=1, title="Everything", artist="Various", artist_id=1, year=2024,
                                      track_count=len(tracks), duration_s=sum(t.duration_s for t in tracks),
                                      gapless=False, has_cover=False, release_at=None, release_jitter_ms=0,
                                      tracks=tracks)
    started = time.perf_counter()
    app.window.library.show_album(library)
    app.window.go_to("Library")
    qt.processEvents()  # type: ignore[attr-defined]
    load_ms = (time.perf_counter() - started) * 1000
    loaded = rss_kb()[0]
    table = app.window.library.album_page.tracks
    bar = table.verticalScrollBar()
    pages, started = 0, time.perf_counter()
    while bar.value() < bar.maximum():
        bar.setValue(bar.value() + bar.pageStep())
        qt.processEvents()  # type: ignore[attr-defined]
        pages += 1
    scroll_ms = (time.perf_counter() - started) * 1000
    last_row = table.rowAt(table.viewport().height() - 1)
    after, peak = rss_kb()
    return {"before_kb": before, "loaded_kb": loaded, "scrolled_kb": after, "peak_kb": peak, "load_ms": load_ms,
            "pages": pages, "scroll_ms": scroll_ms, "rows": table.model().rowCount(), "last_row_seen": last_row}


def report_and_exit(figures: dict[str, object]) -> None:
    print(f"{READY} {json.dumps(figures)}", flush=True)
    os._exit(0)  # the parent has what it needs; shutting the app down is not what is measured


# -- the parent --------------------------------------------------------------------------------------------------

def run_child(args: list[str]) -> tuple[float, dict[str, object]]:
    """Spawn this script as a child; wall ms from just before the spawn to its READY line, and its figures."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.app", *args], stdout=subprocess.PIPE, text=True,
                               cwd=ROOT)
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if line.startswith(READY):
                elapsed_ms = (time.perf_counter() - started) * 1000
                return elapsed_ms, dict(json.loads(line[len(READY):]))
        raise BenchmarkSetupError(f"the {args[0]} child exited with code {process.wait()} before its window was ready")
    finally:
        process.wait(timeout=READY_TIMEOUT_S)


def start_keystore(home: Path) -> list[int]:
    """A private dbus-daemon and an unlocked gnome-keyring on it, as the tests' secret_service fixture starts them.

    Sets DBUS_SESSION_BUS_ADDRESS for this process and its children; returns the pids to stop at the end.
    """
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    runtime = home / "run"
    runtime.mkdir(mode=0o700, parents=True)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache")}
    started = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
                             env=env, capture_output=True, text=True, check=True, timeout=30)
    address, dbus_pid = started.stdout.split()[:2]
    env["DBUS_SESSION_BUS_ADDRESS"] = os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    subprocess.run(["gnome-keyring-daemon", "--daemonize", "--unlock", "--components=secrets"],
                   input="pw", env=env, capture_output=True, text=True, check=True, timeout=30)
    import keyring
    import keyring.core
    from keyring.backends import SecretService

    keyring.core.init_backend()
    if not isinstance(keyring.get_keyring(), SecretService.Keyring):
        raise BenchmarkSetupError(f"keyring chose {keyring.get_keyring()!r}, not the Secret Service on {address}")
    keyring.get_keyring().get_password("legato-bench", "probe")  # the daemon claims its bus name on first use
    bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")
    with open_dbus_connection(bus=address) as connection:
        reply = connection.send_and_get_reply(
            new_method_call(bus, "GetConnectionUnixProcessID", "s", ("org.freedesktop.secrets",)))
    return [int(reply.body[0]), int(dbus_pid)]


def cold_start(url: str, work: Path) -> dict[str, object]:
    run_child(["bare"])
    run_child(["app", url, str(work / "cold-warmup")])
    bare_ms, app_ms = [], []
    for run in range(COLD_RUNS):  # interleaved, so drift in machine load hits both alike
        bare_ms.append(run_child(["bare"])[0])
        app_ms.append(run_child(["app", url, str(work / f"cold-{run}")])[0])
    app, bare = statistics.median(app_ms), statistics.median(bare_ms)
    print(f"cold start to a filled Home: median {app:.0f} ms of {COLD_RUNS} "
          f"(min {min(app_ms):.0f}, max {max(app_ms):.0f}); bare QMainWindow: {bare:.0f} ms; ratio {app / bare:.2f}")
    return {"cold_start_ms": round(app), "cold_start_min_ms": round(min(app_ms)),
            "cold_start_max_ms": round(max(app_ms)), "bare_window_start_ms": round(bare),
            "cold_start_ratio_to_bare_window": round(app / bare, 2)}


def library_rss(url: str, work: Path) -> dict[str, object]:
    bare_kb = run_child(["bare"])[1]["rss_kb"]
    _, f = run_child(["app", url, str(work / "rss"), "--library"])
    delta = int(f["scrolled_kb"]) - int(f["before_kb"])
    print(f"RSS: bare PySide6 window {mb(bare_kb)} MB; app ready {mb(f['before_kb'])} MB; "
          f"{f['rows']} tracks loaded {mb(f['loaded_kb'])} MB ({float(f['load_ms']):.0f} ms); "
          f"scrolled to the end ({f['pages']} pages, {float(f['scroll_ms']):.0f} ms, last row seen "
          f"{f['last_row_seen']}) {mb(f['scrolled_kb'])} MB, +{mb(delta)} MB over ready; peak {mb(f['peak_kb'])} MB")
    if f["rows"] != LIBRARY_TRACKS or int(f["last_row_seen"]) != LIBRARY_TRACKS - 1:
        raise BenchmarkSetupError(f"the table showed {f['rows']} rows and ended at row {f['last_row_seen']}")
    return {"rss_library_mb": mb(f["scrolled_kb"]), "rss_ready_mb": mb(f["before_kb"]),
            "rss_library_delta_mb": mb(delta), "rss_peak_mb": mb(f["peak_kb"]), "rss_bare_pyside_mb": mb(bare_kb),
            "rss_ratio_to_bare_pyside": round(int(f["scrolled_kb"]) / int(bare_kb), 2),
            "rss_ratio_to_ready": round(int(f["scrolled_kb"]) / int(f["before_kb"]), 2),
            "library_load_ms": round(float(f["load_ms"])), "library_scroll_ms_per_page":
            round(float(f["scroll_ms"]) / max(int(f["pages"]), 1), 2)}


def give_history(url: str) -> None:
    """Plays of the demo user's: the first HISTORY_TRACKS_PER_ALBUM tracks of each album, an hour apart."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from client.api import ApiClient

    api = ApiClient(url)
    try:
        api.login(*USER)
        now = datetime.now(UTC)
        tracks = [track for album in api.albums()
                  for track in api.album(int(album["id"]))["tracks"][:HISTORY_TRACKS_PER_ALBUM]]
        api.post_plays([{"id": str(uuid.uuid4()), "track_id": track["id"], "ms_played": 60_000,
                         "started_at": (now - timedelta(hours=n + 1)).isoformat(), "completed": True,
                         "skipped": False, "context": {"kind": "album", "id": str(track["album_id"])}}
                        for n, track in enumerate(tracks)])
    finally:
        api.close()


def main() -> None:
    from client.bundled import BundledServer
    from server.demo import build_demo

    with tempfile.TemporaryDirectory(prefix="legato-app-bench-") as temp:
        work = Path(temp)
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(work / "pycache")  # the children's bytecode, kept out of the tree
        pids = start_keystore(work / "keyring-home")
        try:
            print(f"building a {ALBUMS}-album demo catalog ({SECONDS_PER_TRACK:.0f} s tracks) ...", flush=True)
            build_demo(work / "server", albums=ALBUMS, seconds_per_track=SECONDS_PER_TRACK, progress=lambda _: None)
            server = BundledServer(work / "server")
            url = server.start()
            try:
                give_history(url)
                figures = {**cold_start(url, work), **library_rss(url, work), **lag_sessions(url, work)}
            finally:
                server.stop()
        finally:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 15)
    print(json.dumps(figures))


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={ROOT / 'tests' / 'offscreen-screen.json'}")
    if len(sys.argv) > 1 and sys.argv[1] == "bare":
        child_bare()
    elif len(sys.argv) > 1 and sys.argv[1] == "app":
        child_app(sys.argv[2], sys.argv[3], then_load_library="--library" in sys.argv)
    else:
        main()
