"""Legato's offline mode: pinned downloads, connectivity state, offline licences.

Imports only cache/; the server is reached through the DownloadSource and Probe callables client/ hands in.
"""

from offline.availability import Availability
from offline.connectivity import Connectivity, ConnectivityState, Probe
from offline.download_queue import DownloadQueue
from offline.downloader import Downloader
from offline.errors import (
    DiskFullError,
    LicenceExpired,
    OfflineError,
    RangeRefused,
    ServerBusy,
    TrackUnavailable,
)
from offline.records import (
    DownloadsSnapshot,
    ItemState,
    ItemStatus,
    OfflineLicence,
    PinKey,
    PinState,
    PinStatus,
    Playability,
    Progress,
    TrackRef,
)
from offline.retry import Backoff
from offline.source import DownloadSource, RangeBody

__all__ = [
    "Availability",
    "Backoff",
    "Connectivity",
    "ConnectivityState",
    "DiskFullError",
    "DownloadQueue",
    "DownloadSource",
    "Downloader",
    "DownloadsSnapshot",
    "ItemState",
    "ItemStatus",
    "LicenceExpired",
    "OfflineError",
    "OfflineLicence",
    "PinKey",
    "PinState",
    "PinStatus",
    "Playability",
    "Probe",
    "Progress",
    "RangeBody",
    "RangeRefused",
    "ServerBusy",
    "TrackRef",
    "TrackUnavailable",
]
