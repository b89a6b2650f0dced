"""Playlists on the client: the sync core (no Qt), its store and event stream, and the page and controller.

Other parts use the controller and the page; tests and benchmarks may drive the core directly.
"""

from client.playlists.controller import PlaylistsController
from client.playlists.core import PlaylistSync
from client.playlists.page import PlaylistsPage
from client.playlists.records import (
    DetachedPlaylist,
    PlaylistChange,
    PlaylistInfo,
    ReadOnlyPlaylist,
    UnknownPlaylist,
)

__all__ = ["DetachedPlaylist", "PlaylistChange", "PlaylistInfo", "PlaylistSync", "PlaylistsController",
           "PlaylistsPage", "ReadOnlyPlaylist", "UnknownPlaylist"]
