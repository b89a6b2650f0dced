"""MPRIS2 driven from another client on a private session bus, against the real playback controller."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jeepney import HeaderFields, MatchRule, Message

from client.catalog import Track
from client.desktop.mpris import BUS_NAME, OBJECT_PATH, PLAYER, ROOT, Mpris, track_object_path
from client.desktop.session_bus import SessionBus
from client.playback.controller import PlaybackController
from client.playback.queue import Repeat
from tests.helpers.bus_peer import BusPeer
from tests.helpers.held_audio import PlayUntil

PROPERTIES = "org.freedesktop.DBus.Properties"
TIMEOUT_MS = 15_000


@pytest.fixture
def cover(tmp_path: Path) -> Path:
    path = tmp_path / "cover.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    return path


@pytest.fixture
def mpris(qtbot: Any, session_bus_address: str, held_playback: PlaybackController,
          cover: Path) -> Iterator[Mpris]:
    bus = SessionBus(session_bus_address)
    served = Mpris(bus, held_playback, art_path=lambda track: cover)
    bus.start()
    qtbot.waitUntil(lambda: served.bus_name == BUS_NAME, timeout=TIMEOUT_MS)
    yield served
    bus.close()


def get(peer: BusPeer, interface: str, name: str) -> tuple[str, Any]:
    reply = peer.call(BUS_NAME, OBJECT_PATH, PROPERTIES, "Get", "ss", (interface, name))
    assert reply.header.fields.get(HeaderFields.error_name) is None, reply.body
    return reply.body[0]  # type: ignore[no-any-return]


def call(peer: BusPeer, member: str, signature: str | None = None, body: tuple[Any, ...] = ()) -> Message:
    return peer.call(BUS_NAME, OBJECT_PATH, PLAYER, member, signature, body)


def error_name(reply: Message) -> str | None:
    name = reply.header.fields.get(HeaderFields.error_name)
    return None if name is None else str(name)


def start_playing(qtbot: Any, playback: PlaybackController, tracks: list[Track]) -> None:
    with qtbot.waitSignal(playback.track_changed, timeout=TIMEOUT_MS):
        playback.play_context(tracks, 0)
    qtbot.waitUntil(lambda: playback.engine.state == "playing", timeout=TIMEOUT_MS)


def properties_changed(peer: BusPeer) -> Any:
    return peer.watch(MatchRule(type="signal", interface=PROPERTIES, member="PropertiesChanged",
                                path=OBJECT_PATH))


def test_identity_and_root_capabilities_are_readable(mpris: Mpris, bus_peer: BusPeer) -> None:
    assert get(bus_peer, ROOT, "Identity") == ("s", "Legato")
    reply = bus_peer.call(BUS_NAME, OBJECT_PATH, PROPERTIES, "GetAll", "s", (ROOT,))
    everything = reply.body[0]
    assert everything["CanRaise"] == ("b", True)
    assert everything["CanQuit"] == ("b", True)
    assert everything["DesktopEntry"] == ("s", "legato")


def test_nothing_playing_reads_as_stopped_with_no_track(mpris: Mpris, bus_peer: BusPeer) -> None:
    assert get(bus_peer, PLAYER, "PlaybackStatus") == ("s", "Stopped")
    no_track = {"mpris:trackid": ("o", "/org/mpris/MediaPlayer2/TrackList/NoTrack")}
    assert get(bus_peer, PLAYER, "Metadata") == ("a{sv}", no_track)
    assert get(bus_peer, PLAYER, "CanGoNext") == ("b", False)


def test_metadata_describes_the_playing_track_in_the_spec_types(
        qtbot: Any, mpris: Mpris, bus_peer: BusPeer, held_playback: PlaybackController,
        album_tracks: list[Track], cover: Path) -> None:
    start_playing(qtbot, held_playback, album_tracks)
    first = album_tracks[0]
    assert get(bus_peer, PLAYER, "PlaybackStatus") == ("s", "Playing")
    signature, metadata = get(bus_peer, PLAYER, "Metadata")
    assert signature == "a{sv}"
    assert metadata["mpris:trackid"] == ("o", track_object_path(first))
    assert metadata["xesam:title"] == ("s", first.title)
    assert metadata["xesam:artist"] == ("as", [first.artist])
    assert metadata["xesam:album"] == ("s", first.album)
    assert metadata["mpris:length"] == ("x", round(first.duration_s * 1_000_000))
    assert metadata["mpris:artUrl"] == ("s", cover.as_uri())
    assert get(bus_peer, PLAYER, "CanGoNext") == ("b", True)


def test_play_pause_from_the_bus_pauses_the_player_and_announces_it(
        qtbot: Any, mpris: Mpris, bus_peer: BusPeer, held_playback: PlaybackController,
        album_tracks: list[Track]) -> None:
    start_playing(qtbot, held_playback, album_tracks)
    changes = properties_changed(bus_peer)
    assert error_name(call(bus_peer, "PlayPause")) is None
    qtbot.waitUntil(lambda: held_playback.engine.state == "paused", timeout=TIMEOUT_MS)
    announced = bus_peer.wait_for(changes, lambda m: m.body[1].get("PlaybackStatus") == ("s", "Paused"))
    assert announced.body[0] == PLAYER

    assert error_name(call(bus_peer, "Play")) is None
    qtbot.waitUntil(lambda: held_playback.engine.state == "playing", timeout=TIMEOUT_MS)
    bus_peer.wait_for(changes, lambda m: m.body[1].get("PlaybackStatus") == ("s", "Playing"))


def test_next_from_the_bus_plays_the_next_track_and_announces_its_metadata(
        qtbot: Any, mpris: Mpris, bus_peer: BusPeer, held_playback: PlaybackController, play_until: PlayUntil,
        album_tracks: list[Track]) -> None:
    start_playing(qtbot, held_playback, album_tracks)
    changes = properties_changed(bus_peer)
    second = album_tracks[1]
    heard: list[Track] = []
    held_playback.track_changed.connect(heard.append)
    assert error_name(call(bus_peer, "Next")) is None
    play_until(lambda: bool(heard))
    assert heard[0].id == second.id
    announced = bus_peer.wait_for(changes, lambda m: "Metadata" in m.body[1])
    assert announced.body[1]["Metadata"][1]["xesam:title"] == ("s", second.title)


def test_volume_set_from_the_bus_reaches_the_engine_and_is_announced(
        mpris: Mpris, bus_peer: BusPeer, held_playback: PlaybackController) -> None:
    changes = properties_changed(bus_peer)
    reply = bus_peer.call(BUS_NAME, OBJECT_PATH, PROPERTIES, "Set", "ssv", (PLAYER, "Volume", ("d", 0.25)))
    assert error_name(reply) is None
    assert held_playback.engine.volume == pytest.approx(0.25)
    bus_peer.wait_for(changes, lambda m: m.body[1].get("Volume") == ("d", 0.25))


def test_a_volume_change_in_the_app_is_announced_on_publish(
        mpris: Mpris, bus_peer: BusPeer, held_playback: PlaybackController) -> None:
    changes = properties_changed(bus_peer)
    held_playback.engine.set_volume(0.5)
    mpris.publish()
    bus_peer.wait_for(changes, lambda m: m.body[1].get("Volume") == ("d", 0.5))


def test_loop_status_and_shuffle_set_from_the_bus_change_the_queue(
        mpris: Mpris, bus_peer: BusPeer, held_playback: PlaybackController) -> None:
    for name, value in (("LoopStatus", ("s", "Playlist")), ("Shuffle", ("b", True))):
        reply = bus_peer.call(BUS_NAME, OBJECT_PATH, PROPERTIES, "Set", "ssv", (PLAYER, name, value))
        assert error_name(reply) is None
    assert held_playback.queue.repeat == Repeat.ALL
    assert held_playback.queue.shuffle is True
    assert get(bus_peer, PLAYER, "LoopStatus") == ("s", "Playlist")


def test_set_position_seeks_the_current_track_and_signals_seeked(
        qtbot: Any, mpris: Mpris, bus_peer: BusPeer, held_playback: PlaybackController, play_until: PlayUntil,
        album_tracks: list[Track]) -> None:
    start_playing(qtbot, held_playback, album_tracks)
    seeked = bus_peer.watch(MatchRule(type="signal", interface=PLAYER, member="Seeked", path=OBJECT_PATH))
    stale = call(bus_peer, "SetPosition", "ox", (track_object_path(album_tracks[1]), 4_000_000))
    assert error_name(stale) is None
    reply = call(bus_peer, "SetPosition", "ox", (track_object_path(album_tracks[0]), 2_000_000))
    assert error_name(reply) is None
    assert bus_peer.wait_for(seeked, lambda m: True).body == (2_000_000,)  # the first: the stale one did nothing
    play_until(lambda: 2.0 <= held_playback.position_seconds() < 2.5)


def test_refused_calls_get_named_errors(mpris: Mpris, bus_peer: BusPeer) -> None:
    read_only = bus_peer.call(BUS_NAME, OBJECT_PATH, PROPERTIES, "Set", "ssv",
                              (PLAYER, "PlaybackStatus", ("s", "Playing")))
    assert error_name(read_only) == "org.freedesktop.DBus.Error.PropertyReadOnly"
    assert error_name(call(bus_peer, "Rewind")) == "org.freedesktop.DBus.Error.UnknownMethod"
    assert error_name(call(bus_peer, "Seek", "i", (5,))) == "org.freedesktop.DBus.Error.InvalidArgs"
    assert error_name(call(bus_peer, "OpenUri", "s", ("file:///x.mp3",))) == \
        "org.freedesktop.DBus.Error.NotSupported"


def test_raise_and_quit_from_the_bus_are_passed_to_the_app(qtbot: Any, mpris: Mpris, bus_peer: BusPeer) -> None:
    with qtbot.waitSignal(mpris.raise_requested, timeout=TIMEOUT_MS):
        bus_peer.call(BUS_NAME, OBJECT_PATH, ROOT, "Raise")
    with qtbot.waitSignal(mpris.quit_requested, timeout=TIMEOUT_MS):
        bus_peer.call(BUS_NAME, OBJECT_PATH, ROOT, "Quit")


def test_gdbus_reads_the_introspection_and_typed_properties(
        mpris: Mpris, bus_peer: BusPeer, session_bus_address: str) -> None:
    gdbus = ["gdbus", "introspect", "--address", session_bus_address, "--dest", BUS_NAME,
             "--object-path", OBJECT_PATH]
    result = bus_peer.in_background(
        lambda: subprocess.run(gdbus, check=False, capture_output=True, text=True, timeout=10))
    assert result.returncode == 0, result.stderr
    assert "interface org.mpris.MediaPlayer2.Player" in result.stdout
    assert "SetPosition(in  o arg_0," in result.stdout
    assert "readwrite d Volume" in result.stdout
    assert "readonly x Position = 0;" in result.stdout


def test_a_second_instance_takes_a_per_instance_name(
        qtbot: Any, mpris: Mpris, session_bus_address: str, held_playback: PlaybackController) -> None:
    bus = SessionBus(session_bus_address)
    second = Mpris(bus, held_playback)
    bus.start()
    try:
        qtbot.waitUntil(lambda: second.bus_name is not None, timeout=TIMEOUT_MS)
        assert second.bus_name == f"{BUS_NAME}.instance{os.getpid()}"
    finally:
        bus.close()


def test_without_a_session_bus_mpris_logs_once_and_does_nothing(
        qtbot: Any, held_playback: PlaybackController, caplog: pytest.LogCaptureFixture,
        tmp_path: Path) -> None:
    bus = SessionBus(f"unix:path={tmp_path / 'no-bus'}")
    served = Mpris(bus, held_playback)
    with (caplog.at_level(logging.INFO, logger="client.desktop.session_bus"),
          qtbot.waitSignal(bus.unavailable, timeout=TIMEOUT_MS)):
        bus.start()
    served.publish()
    assert not bus.is_connected
    assert served.bus_name is None
    assert [r.message for r in caplog.records if r.name == "client.desktop.session_bus"] == [
        caplog.records[0].message]
    assert "no D-Bus session bus" in caplog.records[0].message
    bus.close()
