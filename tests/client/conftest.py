"""Fixtures for the desktop-integration tests (MPRIS, notifications, tray), reusable by QA.

- ``session_bus_address``: a private D-Bus session bus (its own dbus-daemon, no service activation), session-wide.
- ``bus_peer``: a separate D-Bus client on that bus (as a desktop widget would be), with blocking-free calls.
- ``held_playback``: a real PlaybackController, logged in to ``live_server``, on ``held_sink``, a render sink that
  consumes nothing until advanced (a started track stays "playing"); ``album_tracks``: the first demo album's tracks.
- ``play_until``: a function; ``play_until(condition)`` advances the held sink until ``condition()`` holds.
- ``notification_server``: a stand-in desktop notification server on that bus recording each Notify call;
  ``bus``: the app's own SessionBus link to that bus, connected.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jeepney.io.threading import open_dbus_router

from client import catalog
from client.api import ApiClient
from client.catalog import Track
from client.desktop.session_bus import SessionBus
from client.playback.controller import PlaybackController
from player import RenderSink
from tests.helpers.bus_peer import BusPeer
from tests.helpers.held_audio import PlayUntil, pacer
from tests.helpers.notification_server import NotificationServer

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@pytest.fixture(scope="session")
def session_bus_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon not installed: the desktop-integration tests need a real bus "
                    "(apt-get install dbus)")
    config = tmp_path_factory.mktemp("session-bus") / "session.conf"
    config.write_text(_BUS_CONFIG)
    started = subprocess.run(["dbus-daemon", f"--config-file={config}", "--fork", "--print-address=1",
                              "--print-pid=1"], capture_output=True, text=True, check=True, timeout=30)
    address, pid = started.stdout.split()[:2]
    yield address
    with contextlib.suppress(ProcessLookupError):
        os.kill(int(pid), signal.SIGTERM)


@pytest.fixture
def play_until(qtbot: Any, held_sink: RenderSink) -> PlayUntil:
    return pacer(qtbot, held_sink)


@pytest.fixture
def bus_peer(session_bus_address: str, qtbot: Any) -> Iterator[BusPeer]:
    with open_dbus_router(session_bus_address) as router:
        peer = BusPeer(router, qtbot)
        yield peer
        peer.close()


@pytest.fixture(scope="session")
def album_tracks(live_server: Any, demo_login: tuple[str, str]) -> list[Track]:
    api = ApiClient(live_server.url)
    try:
        api.login(*demo_login)
        return list(catalog.album_with_tracks(api.album(int(api.albums()[0]["id"]))).tracks)
    finally:
        api.close()


@pytest.fixture
def held_sink(tmp_path: Path) -> RenderSink:
    """Consumes nothing until ``advance``d: a jump (next, seek) completes only when the test lets it."""
    return RenderSink(tmp_path / "held.wav", manual=True)


@pytest.fixture
def held_playback(live_server: Any, demo_login: tuple[str, str],
                  held_sink: RenderSink) -> Iterator[PlaybackController]:
    api = ApiClient(live_server.url)
    api.login(*demo_login)
    playback = PlaybackController(api, held_sink)
    yield playback
    playback.close()
    api.close()


@pytest.fixture
def notification_server(session_bus_address: str) -> Iterator[NotificationServer]:
    server = NotificationServer(session_bus_address)
    yield server
    server.close()


@pytest.fixture
def bus(qtbot: Any, session_bus_address: str) -> Iterator[SessionBus]:
    link = SessionBus(session_bus_address)
    with qtbot.waitSignal(link.connected, timeout=15_000):
        link.start()
    yield link
    link.close()
