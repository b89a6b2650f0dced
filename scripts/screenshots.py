"""Screenshots of Legato's main views on a real X server (Xvfb), for the README and for reviewing the UI.

Usage: .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
Starts Xvfb when there is no DISPLAY, builds a small demo catalog, serves it, and saves one PNG per view.
"""

from __future__ import annotations

import argparse
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


def ensure_display() -> subprocess.Popen[bytes] | None:
    if os.environ.get("DISPLAY"):
        return None
    if shutil.which("Xvfb") is None:
        sys.exit("screenshots need an X server: apt-get install xvfb")
    xvfb = subprocess.Popen(["Xvfb", XVFB_DISPLAY, "-screen", "0", "1400x900x24", "-nolisten", "tcp"])
    os.environ["DISPLAY"] = XVFB_DISPLAY
    return xvfb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    xvfb = ensure_display()
    os.environ["QT_QPA_PLATFORM"] = "xcb"

    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from client.api import ApiClient
    from client.bundled import BundledServer
    from client.session import open_session
    from client.settings import Settings
    from client.startup import Connection
    from client.views.window import MainWindow
    from player import RenderSink
    from server.demo import build_demo

    work = Path(tempfile.mkdtemp(prefix="legato-shots-"))
    build_demo(work / "server", albums=4, seconds_per_track=30.0, progress=lambda line: None)
    server = BundledServer(work / "server")
    app = QApplication(sys.argv[:1])
    try:
        api = ApiClient(server.start())
        api.login("demo", "demo")
        session = open_session(Connection(api, None, None), Settings(), work, RenderSink(work / "out.wav", manual=True))
        window = MainWindow(session, Settings())
        window.resize(1280, 800)
        window.show()

        def settle(until: Callable[[], bool], timeout_ms: int = 10_000) -> None:
            waited = 0
            while not until() and waited < timeout_ms:
                loop = QEventLoop()
                QTimer.singleShot(50, loop.quit)
                loop.exec()
                waited += 50
            QCoreApplication.processEvents()

        def shoot(name: str) -> None:
            settle(lambda: True)
            window.grab().save(str(args.out / f"{name}.png"))
            print(f"saved {args.out / name}.png")

        settle(lambda: window.library.grid.albums.rowCount() > 0)
        shoot("home")
        album = window.library.grid.albums.albums[0]
        window.open_album(album.id)
        settle(lambda: window.library.album_page.tracks.tracks.rowCount() > 0)
        tracks = window.library.album_page.tracks.visible_tracks()
        window.playback.play_context(tracks, 1)
        settle(lambda: window.now_playing.title.text() == tracks[1].title)
        shoot("album")
        window.go_to("Search")
        window.search.field.setText(tracks[0].title.split()[0][:5])
        settle(lambda: bool(window.search.summary.text()))
        shoot("search")
        window.close()
        api.close()
    finally:
        server.stop()
        app.quit()
        shutil.rmtree(work, ignore_errors=True)
        if xvfb is not None:
            xvfb.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
