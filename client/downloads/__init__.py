"""Offline downloads in the app: the controller over offline/'s downloader, and its widgets (page, toggle, indicator).

The controller is widget-less; the widgets only read its snapshot and call its commands.
"""

from client.downloads.controller import LIKED_PIN, ApiDownloadSource, DownloadsController, open_downloads
from client.downloads.view import DownloadsUnavailablePage, DownloadsView, DownloadToggle, OfflineIndicator

__all__ = ["LIKED_PIN", "ApiDownloadSource", "DownloadToggle", "DownloadsController", "DownloadsUnavailablePage",
           "DownloadsView", "OfflineIndicator", "open_downloads"]
