"""Screenshots of Legato's main views in the dark and the light theme, for the README and for reviewing the UI.

Usage: .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--offscreen] [--only VIEW ...]
Builds a small demo catalog, serves it, starts the real app on it (with a private keystore, so the disk cache and
Downloads are there) on Xvfb (started when there is no DISPLAY) or Qt's offscreen platform, and saves
<view>-<theme>.png for Home (with the first-run welcome), Search with results, an album, an artist, Liked Songs,
Your library, Your listening, Playlists, Downloads and Settings (``--only`` some of them).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

XVFB_DISPLAY = ":77"
VIEWS = ("home", "search", "album", "artist", "liked", "library", "listening", "playlists", "downloads", "settings")
WINDOW_PX = (1440, 900)


def ensure_display(offscreen: bool) -> subprocess.Popen[bytes] | None:
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={ROOT / 'tests' / 'offscreen-screen.json'}"
        return None
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    if os.environ.get("DISPLAY"):
        return None
    if shutil.which("Xvfb") is None:
        sys.exit("screenshots need an X server: apt-get install xvfb (or pass --offscreen)")
    xvfb = subprocess.Popen(["Xvfb", XVFB_DISPLAY, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"])
    os.environ["DISPLAY"] = XVFB_DISPLAY
    return xvfb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--offscreen", action="store_true", help="Qt's offscreen platform instead of Xvfb")
    parser.add_argument("--only", nargs="+", choices=VIEWS, default=VIEWS, metavar="VIEW",
                        help=f"shoot only these views ({', '.join(VIEWS)})")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    xvfb = ensure_display(args.offscreen)
    work = Path(tempfile.mkdtemp(prefix="legato-shots-"))
    from benchmarks.app import start_keystore

    pids = start_keystore(work / "keyring-home")
    try:
        return shoot_all(work, args.out, set(args.only))
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 15)
        shutil.rmtree(work, ignore_errors=True)
        if xvfb is not None:
            xvfb.terminate()


def shoot_all(work: Path, out: Path, views: set[str]) -> int:
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from client.app import App
    from client.bundled import BundledServer
    from client.catalog import ArtistSummary
    from client.views.settings_dialog import SettingsDialog
    from server.demo import build_demo

    # Listeners as the app's own demo has them (`server demo`'s default): the demo user's history and a model.
    build_demo(work / "server", albums=4, seconds_per_track=30.0, progress=lambda line: None, listeners=60)
    server = BundledServer(work / "server")
    qt = QApplication(sys.argv[:1])
    try:
        app = App(work / "data", None, server.start(), "demo", "demo", work / "out.wav")
        app.start()

        def settle(until: Callable[[], bool] = lambda: True, timeout_ms: int = 15_000) -> None:
            waited = 0
            while not until() and waited < timeout_ms:
                loop = QEventLoop()
                QTimer.singleShot(50, loop.quit)
                loop.exec()
                waited += 50
            for _ in range(5):  # let covers and layouts land
                loop = QEventLoop()
                QTimer.singleShot(60, loop.quit)
                loop.exec()
            QCoreApplication.processEvents()

        settle(lambda: app.window is not None and app.window.library.grid.albums.rowCount() > 0)
        window, session = app.window, app.session
        assert window is not None and session is not None
        window.resize(*WINDOW_PX)
        album = window.library.grid.albums.albums[0]
        window.open_album(album.id)
        settle(lambda: window.library.album_page.tracks.tracks.rowCount() > 0)
        tracks = window.library.album_page.tracks.visible_tracks()
        session.history.toggle_liked(tracks[0])
        session.history.toggle_liked(tracks[2])
        window.playback.play_context(tracks, 1)
        settle(lambda: window.now_playing.title.text() == tracks[1].title)
        window.playback.toggle_pause()
        if session.downloads is not None:
            session.downloads.pin_album(album.id, album.title)
        for saved in window.library.grid.albums.albums[:3]:
            window.saved.set_saved(saved, True)
            settle(lambda saved=saved: window.saved.is_saved(saved.id))
        window.saved.set_followed(ArtistSummary(id=album.artist_id, name=album.artist), True)
        settle(lambda: window.saved.is_followed(album.artist_id))

        for theme in ("dark", "light"):
            app.settings = dataclasses.replace(app.settings, theme=theme)  # as Settings' OK would: the dialog shows it
            app.theme.choose(theme)

            def shoot(name: str, theme: str = theme) -> None:
                if name not in views:
                    return
                settle()
                window.grab().save(str(out / f"{name}-{theme}.png"))
                print(f"saved {out / name}-{theme}.png")

            window.go_to("Home")
            settle(lambda: window.home.rows is not None)
            shoot("home")
            window.go_to("Search")
            window.search.field.setText(tracks[0].title.split()[0][:5])
            settle(lambda: bool(window.search.results.tracks))
            shoot("search")
            window.open_album(album.id)
            settle(lambda: window.library.currentWidget() is window.library.album_page)
            shoot("album")
            window.open_artist(album.artist_id)
            settle(lambda: window.library.currentWidget() is window.library.artist_page)
            shoot("artist")
            window.go_to("Liked Songs")
            shoot("liked")
            window.go_to("Library")
            window.library.setCurrentWidget(window.your_library)
            window.your_library.show_section("albums")
            shelf = window.your_library.shown["albums"]
            window.your_library.lists["albums"].setCurrentRow(  # the album being downloaded: its state shows
                next((row for row, item in enumerate(shelf) if item.key == str(album.id)), 0))
            shoot("library")
            window.go_to("Your listening")
            settle(lambda: window.listening.weeks_chart is not None)
            shoot("listening")
            window.go_to("Playlists")
            playlists = window.playlists.playlist_list
            settle(lambda shown=playlists: shown.count() > 0, timeout_ms=5_000)
            if playlists.count():
                playlists.setCurrentRow(0)
            shoot("playlists")
            window.go_to("Downloads")
            shoot("downloads")
            if "settings" not in views:
                continue
            app.open_settings(session, window)
            dialog = window.findChild(SettingsDialog)
            settle()
            dialog.grab().save(str(out / f"settings-{theme}.png"))
            print(f"saved {out / 'settings'}-{theme}.png")
            dialog.reject()
            dialog.deleteLater()
        window.close()
    finally:
        server.stop()
        qt.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
