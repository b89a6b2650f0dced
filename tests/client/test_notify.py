"""Track-change notifications, sent to a notification server on a private session bus.

The server is a small stand-in for the desktop's (the peer, not our code): it records each Notify call.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from client.catalog import Track
from client.desktop.notify import TrackNotifier
from client.desktop.session_bus import SessionBus
from client.playback.controller import PlaybackController
from tests.helpers.held_audio import PlayUntil
from tests.helpers.notification_server import NotificationServer

TIMEOUT_MS = 15_000


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
