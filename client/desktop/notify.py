"""Desktop notifications (org.freedesktop.Notifications over the session bus): the track changed; a pre-saved
album is out.

Optional (``enabled``), and silent for the user when the desktop runs no notification server.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from jeepney import DBusAddress, HeaderFields, Message, new_method_call
from PySide6.QtCore import QObject, SignalInstance

from client.catalog import Album, Track
from client.desktop.mpris import ArtPath
from client.desktop.session_bus import SessionBus

log = logging.getLogger(__name__)

NOTIFICATIONS = DBusAddress("/org/freedesktop/Notifications", bus_name="org.freedesktop.Notifications",
                            interface="org.freedesktop.Notifications")
APP_NAME = "Legato"
DEFAULT_TIMEOUT = -1  # the server's own default duration

class TrackSource(Protocol):
    @property
    def track_changed(self) -> SignalInstance: ...


class TrackNotifier(QObject):
    """Shows "title / artist — album" on each track change, replacing its previous notification.

    Keep a reference: a collected notifier hears no more track changes."""

    def __init__(self, bus: SessionBus, player: TrackSource, art_path: ArtPath | None = None,
                 enabled: bool = True) -> None:
        super().__init__()
        self.enabled = enabled
        self._bus = bus
        self._art_path = art_path
        self._notification_id = 0  # 0 asks the server for a new notification
        self._told_no_server = False
        self._in_flight = False  # a Notify awaits its reply (and the id to replace next time)
        self._waiting: Track | None = None
        player.track_changed.connect(self._on_player_track_changed)

    def _on_player_track_changed(self, track: Track) -> None:
        if not self.enabled:
            return
        if self._in_flight:
            self._waiting = track  # skipping fast: only the latest track is shown, in the same notification
            return
        body = " — ".join(part for part in (track.artist, track.album) if part)
        art = self._art_path(track) if self._art_path is not None else None
        icon = Path(art).absolute().as_uri() if art is not None else ""
        hints = {"desktop-entry": ("s", "legato"), "category": ("s", "x-legato.track-change")}
        message = new_method_call(NOTIFICATIONS, "Notify", "susssasa{sv}i",
                                  (APP_NAME, self._notification_id, icon, track.title, body,
                                   [], hints, DEFAULT_TIMEOUT))
        self._in_flight = self._bus.call(message, self._on_notify_replied)

    def _on_notify_replied(self, reply: Message) -> None:
        self._in_flight = False
        error = reply.header.fields.get(HeaderFields.error_name)
        if error is None:
            self._notification_id = int(reply.body[0])
        elif not self._told_no_server:
            self._told_no_server = True
            log.info("track notifications not shown: %s (%s)", error, reply.body[0] if reply.body else "")
        waiting, self._waiting = self._waiting, None
        if waiting is not None and error is None:
            self._on_player_track_changed(waiting)


class ReleaseNotifier(QObject):
    """Shows "“title” is out / artist — now in your library" for each pre-saved album at its release."""

    def __init__(self, bus: SessionBus, enabled: bool = True) -> None:
        super().__init__()
        self.enabled = enabled
        self._bus = bus

    def show_released(self, album: Album) -> None:
        if not self.enabled:
            return
        hints = {"desktop-entry": ("s", "legato"), "category": ("s", "x-legato.release")}
        message = new_method_call(NOTIFICATIONS, "Notify", "susssasa{sv}i",
                                  (APP_NAME, 0, "", f"“{album.title}” is out",
                                   f"{album.artist} — now in your library", [], hints, DEFAULT_TIMEOUT))
        if not self._bus.call(message, self._on_notify_replied):
            log.info("release of %r not notified: the session bus is not connected", album.title)

    def _on_notify_replied(self, reply: Message) -> None:
        error = reply.header.fields.get(HeaderFields.error_name)
        if error is not None:
            log.info("release notification not shown: %s (%s)", error, reply.body[0] if reply.body else "")
