"""The offline part's exceptions, each with a message a user can act on.

    OfflineError
    ├── DiskFullError      not enough free space for a download (before it starts, or a write hit ENOSPC)
    ├── TrackUnavailable   offline, and the track is neither downloaded nor cached
    └── LicenceExpired     a downloaded track's offline licence is past its expiry and the app is offline
    ServerBusy (OSError)   the server answered 429/503; retry after ``retry_after_s``
    RangeRefused (OSError) the server answered a Range request with neither the range nor "busy" (``status``)
"""

from __future__ import annotations


class OfflineError(Exception):
    """Base of every error the offline part raises on purpose."""


class DiskFullError(OfflineError):
    """There is not enough free disk space to store a download."""


class TrackUnavailable(OfflineError):
    """The track cannot be played without the server, which is unreachable or switched off by the user."""


class LicenceExpired(OfflineError):
    """A downloaded track's offline licence has expired; it plays again once the app has been online."""


class ServerBusy(OSError):
    """The server asked to be left alone for a while (HTTP 429 or 503, maybe with Retry-After)."""

    def __init__(self, message: str, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RangeRefused(OSError):
    """The server answered a Range request with something other than that range or "busy": an HTTP error, or
    the whole file, or another range. Asking again will not help unless the server failed (``status`` >= 500)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        return self.status < 500
