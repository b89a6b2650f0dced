"""MPRIS2 on the session bus: desktop widgets and media keys see what plays and control the player.

Serves org.mpris.MediaPlayer2 and org.mpris.MediaPlayer2.Player at /org/mpris/MediaPlayer2 over a SessionBus.
Calls are answered on the UI thread from the player's own state; it never waits on the player.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jeepney import (
    DBusAddress,
    DBusNameFlags,
    HeaderFields,
    Message,
    MessageFlag,
    message_bus,
    new_error,
    new_method_return,
    new_signal,
)
from PySide6.QtCore import QObject, Signal, SignalInstance

from client.catalog import Track
from client.desktop.session_bus import SessionBus
from client.playback.queue import Repeat

log = logging.getLogger(__name__)

BUS_NAME = "org.mpris.MediaPlayer2.legato"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
ROOT = "org.mpris.MediaPlayer2"
PLAYER = "org.mpris.MediaPlayer2.Player"
PROPERTIES = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
PEER = "org.freedesktop.DBus.Peer"
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"
DESKTOP_ENTRY = "legato"
US_PER_S = 1_000_000
_NAME_TAKEN = 3  # RequestName's "exists" answer under DO_NOT_QUEUE
_STATUS = {"playing": "Playing", "paused": "Paused", "stopped": "Stopped"}
_LOOP = {Repeat.OFF: "None", Repeat.ONE: "Track", Repeat.ALL: "Playlist"}
_ERROR = "org.freedesktop.DBus.Error."

ArtPath = Callable[[Track], "Path | None"]  # where a track's cover image is on disk, if anywhere
Variant = tuple[str, Any]  # jeepney's form of a D-Bus variant: (signature, value)


class EngineControls(Protocol):
    @property
    def state(self) -> str: ...
    @property
    def volume(self) -> float: ...
    def set_volume(self, volume: float) -> None: ...
    def stop(self) -> None: ...


class QueueSettings(Protocol):
    @property
    def shuffle(self) -> bool: ...
    @property
    def repeat(self) -> Repeat: ...


class Player(Protocol):
    """What MPRIS needs of the playback controller."""

    @property
    def track_changed(self) -> SignalInstance: ...
    @property
    def state_changed(self) -> SignalInstance: ...
    @property
    def queue_changed(self) -> SignalInstance: ...
    @property
    def engine(self) -> EngineControls: ...
    @property
    def queue(self) -> QueueSettings: ...
    @property
    def current_track(self) -> Track | None: ...
    def toggle_pause(self) -> None: ...
    def next(self) -> None: ...
    def previous(self) -> None: ...
    def seek(self, seconds: float) -> None: ...
    def position_seconds(self) -> float: ...
    def set_shuffle(self, on: bool) -> None: ...
    def set_repeat(self, mode: Repeat) -> None: ...


class MprisError(Exception):
    """A call we refuse; becomes a D-Bus error reply named ``org.freedesktop.DBus.Error.<name>``."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class _Property:
    signature: str
    read: Callable[[], Any]
    write: Callable[[Any], None] | None = None


def track_object_path(track: Track) -> str:
    return "/org/legato/track/" + re.sub(r"[^A-Za-z0-9_]", "_", str(track.id))


class Mpris(QObject):
    """The MPRIS2 face of one player. Call ``publish()`` after changing something no signal announces (volume).

    Signals:
        raise_requested(): a desktop asked to bring the window to the front.
        quit_requested(): a desktop asked the app to quit.
    """

    raise_requested = Signal()
    quit_requested = Signal()

    def __init__(self, bus: SessionBus, player: Player, art_path: ArtPath | None = None) -> None:
        super().__init__()
        self._bus = bus
        self._player = player
        self._art_path = art_path
        self.bus_name: str | None = None
        self._published: dict[str, Variant] = {}
        self._properties: dict[str, dict[str, _Property]] = {
            ROOT: self._root_properties(), PLAYER: self._player_properties()}
        self._methods: dict[tuple[str, str], tuple[str, Callable[..., None]]] = {
            (ROOT, "Raise"): ("", self.raise_requested.emit),
            (ROOT, "Quit"): ("", self.quit_requested.emit),
            (PLAYER, "Next"): ("", self._next),
            (PLAYER, "Previous"): ("", self._previous),
            (PLAYER, "Pause"): ("", self._pause),
            (PLAYER, "PlayPause"): ("", self._play_pause),
            (PLAYER, "Stop"): ("", self._stop),
            (PLAYER, "Play"): ("", self._play),
            (PLAYER, "Seek"): ("x", self._seek),
            (PLAYER, "SetPosition"): ("ox", self._set_position),
            (PLAYER, "OpenUri"): ("s", self._open_uri),
        }
        bus.connected.connect(self._on_bus_connected)
        bus.call_received.connect(self._on_bus_call_received)
        for signal in (player.track_changed, player.state_changed, player.queue_changed):
            signal.connect(self.publish)

    def publish(self) -> None:
        """Send PropertiesChanged for every player property whose value differs from what was last sent."""
        current = {name: (prop.signature, prop.read()) for name, prop in self._properties[PLAYER].items()
                   if name != "Position"}  # MPRIS: position changes are never announced, only Seeked
        changed = {name: value for name, value in current.items() if self._published.get(name) != value}
        self._published = current
        if changed and self._bus.is_connected:
            emitter = DBusAddress(OBJECT_PATH, interface=PROPERTIES)
            self._bus.send(new_signal(emitter, "PropertiesChanged", "sa{sv}as", (PLAYER, changed, [])))

    # -- properties --------------------------------------------------------------------------------

    def _root_properties(self) -> dict[str, _Property]:
        return {
            "Identity": _Property("s", lambda: "Legato"),
            "DesktopEntry": _Property("s", lambda: DESKTOP_ENTRY),
            "CanQuit": _Property("b", lambda: True),
            "CanRaise": _Property("b", lambda: True),
            "HasTrackList": _Property("b", lambda: False),
            "SupportedUriSchemes": _Property("as", list),
            "SupportedMimeTypes": _Property("as", list),
        }

    def _player_properties(self) -> dict[str, _Property]:
        player = self._player
        has_track = self._has_track
        return {
            "PlaybackStatus": _Property("s", lambda: _STATUS.get(player.engine.state, "Stopped")),
            "LoopStatus": _Property("s", lambda: _LOOP[player.queue.repeat], self._set_loop_status),
            "Rate": _Property("d", lambda: 1.0, self._set_rate),
            "Shuffle": _Property("b", lambda: bool(player.queue.shuffle), self._set_shuffle),
            "Metadata": _Property("a{sv}", self._metadata),
            "Volume": _Property("d", lambda: float(player.engine.volume), self._set_volume),
            "Position": _Property("x", lambda: round(player.position_seconds() * US_PER_S)),
            "MinimumRate": _Property("d", lambda: 1.0),
            "MaximumRate": _Property("d", lambda: 1.0),
            "CanGoNext": _Property("b", has_track),
            "CanGoPrevious": _Property("b", has_track),
            "CanPlay": _Property("b", has_track),
            "CanPause": _Property("b", has_track),
            "CanSeek": _Property("b", has_track),
            "CanControl": _Property("b", lambda: True),
        }

    def _has_track(self) -> bool:
        return self._player.current_track is not None

    def _metadata(self) -> dict[str, Variant]:
        track = self._player.current_track
        if track is None:
            return {"mpris:trackid": ("o", NO_TRACK)}
        metadata: dict[str, Variant] = {
            "mpris:trackid": ("o", track_object_path(track)),
            "mpris:length": ("x", round(track.duration_s * US_PER_S)),
            "xesam:title": ("s", track.title),
            "xesam:trackNumber": ("i", track.track_no),
            "xesam:discNumber": ("i", track.disc_no),
        }
        if track.artist:
            metadata["xesam:artist"] = ("as", [track.artist])
        if track.album:
            metadata["xesam:album"] = ("s", track.album)
        art = self._art_path(track) if self._art_path is not None else None
        if art is not None:
            metadata["mpris:artUrl"] = ("s", Path(art).absolute().as_uri())
        return metadata

    def _set_loop_status(self, value: str) -> None:
        modes = {name: mode for mode, name in _LOOP.items()}
        if value not in modes:
            raise MprisError("InvalidArgs", f"LoopStatus must be one of {', '.join(modes)}, not {value!r}")
        self._player.set_repeat(modes[value])

    def _set_rate(self, value: float) -> None:
        if value != 1.0:
            raise MprisError("NotSupported", "Legato plays at rate 1.0 only")

    def _set_shuffle(self, value: bool) -> None:
        self._player.set_shuffle(bool(value))

    def _set_volume(self, value: float) -> None:
        self._player.engine.set_volume(min(1.0, max(0.0, float(value))))

    # -- methods -----------------------------------------------------------------------------------

    def _next(self) -> None:
        if self._player.current_track is not None:
            self._player.next()

    def _previous(self) -> None:
        if self._player.current_track is not None:
            self._player.previous()

    def _play_pause(self) -> None:
        if self._player.current_track is not None:
            self._player.toggle_pause()

    def _pause(self) -> None:
        if self._player.engine.state == "playing":
            self._player.toggle_pause()

    def _play(self) -> None:
        if self._player.engine.state != "playing" and self._player.current_track is not None:
            self._player.toggle_pause()

    def _stop(self) -> None:
        self._player.engine.stop()

    def _seek(self, offset_us: int) -> None:
        track = self._player.current_track
        if track is None:
            return
        target_s = max(0.0, self._player.position_seconds() + offset_us / US_PER_S)
        if target_s > track.duration_s:
            self._player.next()  # MPRIS: seeking past the end acts like Next
        else:
            self._seek_to(target_s)

    def _set_position(self, track_id: str, position_us: int) -> None:
        track = self._player.current_track
        if track is None or track_id != track_object_path(track):
            return  # MPRIS: a stale track id is ignored
        if 0 <= position_us <= track.duration_s * US_PER_S:
            self._seek_to(position_us / US_PER_S)

    def _seek_to(self, seconds: float) -> None:
        self._player.seek(seconds)
        if self._bus.is_connected:
            emitter = DBusAddress(OBJECT_PATH, interface=PLAYER)
            self._bus.send(new_signal(emitter, "Seeked", "x", (round(seconds * US_PER_S),)))

    def _open_uri(self, uri: str) -> None:
        raise MprisError("NotSupported", f"Legato plays its own catalog and cannot open {uri}")

    # -- the bus -----------------------------------------------------------------------------------

    def _on_bus_connected(self) -> None:
        self._request_name(BUS_NAME)

    def _request_name(self, name: str) -> None:
        # Not queued: with a second Legato running, take a per-instance name (as MPRIS suggests) instead of waiting.
        def claimed(reply: Message) -> None:
            if reply.header.fields.get(HeaderFields.error_name):
                log.info("could not claim %s on the session bus: %s", name, reply.body)
            elif reply.body[0] == _NAME_TAKEN and name == BUS_NAME:
                self._request_name(f"{BUS_NAME}.instance{os.getpid()}")
            else:
                self.bus_name = name
                self.publish()

        self._bus.call(message_bus.RequestName(name, DBusNameFlags.do_not_queue), claimed)

    def _on_bus_call_received(self, message: Message) -> None:
        fields = message.header.fields
        if fields.get(HeaderFields.path) != OBJECT_PATH:
            return
        try:
            reply = self._answer(message, fields.get(HeaderFields.interface), fields[HeaderFields.member],
                                 fields.get(HeaderFields.signature, ""))
        except MprisError as exc:
            reply = new_error(message, _ERROR + exc.name, "s", (str(exc),))
        if not message.header.flags & MessageFlag.no_reply_expected:
            self._bus.send(reply)

    def _answer(self, message: Message, interface: str | None, member: str, signature: str) -> Message:
        body = message.body
        if interface in (PROPERTIES, None) and member in ("Get", "GetAll", "Set"):
            return self._answer_properties(message, member, signature)
        if interface in (INTROSPECTABLE, None) and member == "Introspect":
            return new_method_return(message, "s", (self._introspection(),))
        if interface in (PEER, None) and member == "Ping":
            return new_method_return(message)
        for (owner, name), (expected, handler) in self._methods.items():
            if name == member and interface in (owner, None):
                if signature != expected:
                    raise MprisError("InvalidArgs", f"{name} takes ({expected}), not ({signature})")
                handler(*body)
                return new_method_return(message)
        raise MprisError("UnknownMethod", f"no method {interface}.{member} on {OBJECT_PATH}")

    def _answer_properties(self, message: Message, member: str, signature: str) -> Message:
        expected = {"Get": "ss", "GetAll": "s", "Set": "ssv"}[member]
        if signature != expected:
            raise MprisError("InvalidArgs", f"{member} takes ({expected}), not ({signature})")
        interface = message.body[0]
        if interface not in self._properties:
            raise MprisError("UnknownInterface", f"no interface {interface} on {OBJECT_PATH}")
        properties = self._properties[interface]
        if member == "GetAll":
            values = {name: (prop.signature, prop.read()) for name, prop in properties.items()}
            return new_method_return(message, "a{sv}", (values,))
        name = message.body[1]
        if name not in properties:
            raise MprisError("UnknownProperty", f"no property {name} on {interface}")
        prop = properties[name]
        if member == "Get":
            return new_method_return(message, "v", ((prop.signature, prop.read()),))
        if prop.write is None:
            raise MprisError("PropertyReadOnly", f"{interface}.{name} is read-only")
        value_signature, value = message.body[2]
        if value_signature != prop.signature:
            raise MprisError("InvalidArgs", f"{name} is of type {prop.signature}, not {value_signature}")
        prop.write(value)
        self.publish()
        return new_method_return(message)

    def _introspection(self) -> str:
        parts = ['<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"',
                 ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">', "<node>",
                 _INTROSPECTION_STANDARD]
        for interface, properties in self._properties.items():
            parts.append(f'  <interface name="{interface}">')
            for (owner, name), (signature, _handler) in self._methods.items():
                if owner == interface:
                    args = "".join(f'<arg direction="in" type="{t}"/>' for t in signature)  # basic types only
                    parts.append(f'    <method name="{name}">{args}</method>')
            if interface == PLAYER:
                parts.append('    <signal name="Seeked"><arg type="x"/></signal>')
            for name, prop in properties.items():
                access = "readwrite" if prop.write is not None else "read"
                parts.append(f'    <property name="{name}" type="{prop.signature}" access="{access}"/>')
            parts.append("  </interface>")
        parts.append("</node>")
        return "\n".join(parts)


_INTROSPECTION_STANDARD = """\
  <interface name="org.freedesktop.DBus.Introspectable">
    <method name="Introspect"><arg direction="out" type="s"/></method>
  </interface>
  <interface name="org.freedesktop.DBus.Peer">
    <method name="Ping"/>
  </interface>
  <interface name="org.freedesktop.DBus.Properties">
    <method name="Get">
      <arg direction="in" type="s"/><arg direction="in" type="s"/><arg direction="out" type="v"/>
    </method>
    <method name="GetAll"><arg direction="in" type="s"/><arg direction="out" type="a{sv}"/></method>
    <method name="Set">
      <arg direction="in" type="s"/><arg direction="in" type="s"/><arg direction="in" type="v"/>
    </method>
    <signal name="PropertiesChanged">
      <arg type="s"/><arg type="a{sv}"/><arg type="as"/>
    </signal>
  </interface>"""
