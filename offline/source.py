"""What downloads are fetched from: the server as the downloader needs it, declared here, implemented by client/.

Protocols only; nothing here touches the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from cache import FileManifest
from offline.records import OfflineLicence


class RangeBody(Protocol):
    """The body of one Range answer (status and headers already checked), as it arrives."""

    def pieces(self) -> Iterator[bytes]:
        """The bytes in pieces of any size as they come in; OSError when the connection breaks. Ends early,
        without an error, once ``abort()`` was called."""
        ...

    def abort(self) -> None:
        """From any thread: stop receiving at once; a ``pieces()`` blocked waiting for bytes returns."""
        ...



class DownloadSource(Protocol):
    """The server, as the downloader needs it (client/ implements it over HTTP)."""

    def manifest(self, track_id: int) -> FileManifest:
        """The track's file at the download quality; OSError when the server cannot be reached."""
        ...

    def open_range(self, manifest: FileManifest, start: int, end: int) -> AbstractContextManager[RangeBody]:
        """Ciphertext [start, end) by HTTP Range, its body streamed while the block runs. On entering: ServerBusy
        on 429/503, RangeRefused on any other answer but that range, another OSError when the server cannot be
        reached; the body raises OSError when the connection breaks."""
        ...

    def offline_licence(self, file_id: int) -> OfflineLicence: ...
