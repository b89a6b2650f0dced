"""Desktop integration: the D-Bus session bus, MPRIS (media keys, widgets), track and release notifications,
the tray icon.

Each piece talks to playback through a small Protocol and never blocks the UI thread on the bus.
"""

from client.desktop.mpris import Mpris
from client.desktop.notify import ReleaseNotifier, TrackNotifier
from client.desktop.session_bus import SessionBus
from client.desktop.tray import TrayIcon

__all__ = ["Mpris", "ReleaseNotifier", "SessionBus", "TrackNotifier", "TrayIcon"]
