"""Track-change notifications, sent to a notification server on a private session bus.

The server is a small stand-in for the desktop's (the peer, not our code): it records each Notify call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from jeepney import (
    DBusNameFlags,
    HeaderFields,
    Message,
    MessageType,
    message_bus,
    new_method_return,
)
from jeepney.io.threading import ReceiveStopped, open_dbus_connection

from client.catalog import Track
from client.desktop.notify import TrackNotifier
from client.desktop.session_bus import SessionBus
from client.playback.controller import PlaybackController
from tests.helpers.held_audio import PlayUntil

TIMEOUT_MS = 15_000


class NotificationServer:
    """Owns org.freedesktop.Notifications and answers Notify with an id, as a desktop would."""

    def __init__(self, address: str) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self._connection = open_dbus_connection(address)
        reply = self._send_and_wait(message_bus.RequestName("org.freedesktop.Notifications",
                                                            DBusNameFlags.do_not_queue))
        assert reply.body == (1,), "another notification server owns the name"
        self._next_id = 41
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _send_and_wait(self, message: Message) -> Message:
        serial = next(self._connection.outgoing_serial)
        self._connection.send(message, serial=serial)
        while True:
            reply = self._connection.receive(timeout=10)
            if reply.header.fields.get(HeaderFields.reply_serial) == serial:
                return reply

    def _serve(self) -> None:
        while True:
            try:
                message = self._connection.receive()
            except (ReceiveStopped, OSError):
                return
            if (message.header.message_type == MessageType.method_call
                    and message.header.fields.get(HeaderFields.member) == "Notify"):
                replaces_id = message.body[1]
                if replaces_id == 0:
                    self._next_id += 1
                self.calls.append(message.body)
                self._connection.send(new_method_return(message, "u", (replaces_id or self._next_id,)))

    def close(self) -> None:
        self._connection.close()
        self._thread.join(5)


@pytest.fixture
def notification_server(session_bus_address: str) -> Iterator[NotificationServer]:
    server = NotificationServer(session_bus_address)
    yield server
    server.close()


@pytest.fixture
def bus(qtbot: Any, session_bus_address: str) -> Iterator[SessionBus]:
    link = SessionBus(session_bus_address)
    with qtbot.waitSignal(link.connected, timeout=TIMEOUT_MS):
        link.start()
    yield link
    link.close()


def play_first(qtbot: Any, playback: PlaybackController, tracks: list[Track]) -> None:
    with qtbot.waitSignal(playback.track_changed, timeout=TIMEOUT_MS):
        playback.play_context(tracks, 0)


def test_a_track_change_notifies_with_the_title_and_replaces_the_last_notification(
        qtbot: Any, bus: SessionBus, notification_server: NotificationServer,
        held_playback: PlaybackController, play_until: PlayUntil, album_tracks: list[Track]) -> None:
    _notifier = TrackNotifier(bus, held_playback)  # held: a collected notifier hears nothing
    play_first(qtbot, held_playback, album_tracks)
    qtbot.waitUntil(lambda: len(notification_server.calls) == 1, timeout=TIMEOUT_MS)
    app_name, replaces_id, _icon, summary, body, *_ = notification_server.calls[0]
    first = album_tracks[0]
    assert (app_name, replaces_id, summary) == ("Legato", 0, first.title)
    assert body == f"{first.artist} — {first.album}"

    held_playback.next()
    play_until(lambda: len(notification_server.calls) == 2)
    assert notification_server.calls[1][3] == album_tracks[1].title
    assert notification_server.calls[1][1] == 42  # the id the server gave the first one


def test_a_disabled_notifier_stays_quiet_until_enabled(
        qtbot: Any, bus: SessionBus, notification_server: NotificationServer,
        held_playback: PlaybackController, play_until: PlayUntil, album_tracks: list[Track]) -> None:
    notifier = TrackNotifier(bus, held_playback, enabled=False)
    play_first(qtbot, held_playback, album_tracks)
    notifier.enabled = True
    held_playback.next()
    play_until(lambda: len(notification_server.calls) >= 1)
    # One connection delivers in order: had the first track been announced, it would be the first call.
    assert [call[3] for call in notification_server.calls] == [album_tracks[1].title]


def test_without_a_notification_server_track_changes_are_silent(
        qtbot: Any, bus: SessionBus, held_playback: PlaybackController, album_tracks: list[Track],
        caplog: pytest.LogCaptureFixture) -> None:
    _notifier = TrackNotifier(bus, held_playback)
    with caplog.at_level(logging.INFO, logger="client.desktop.notify"):
        play_first(qtbot, held_playback, album_tracks)
        qtbot.waitUntil(lambda: "track notifications not shown" in caplog.text, timeout=TIMEOUT_MS)
    assert "ServiceUnknown" in caplog.text
