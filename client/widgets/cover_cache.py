"""Album covers from the server, fetched and decoded off the UI thread and kept in memory (LRU by album).

Until a cover arrives, and for albums without one, callers get client.widgets.covers' placeholder; nothing here blocks.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QRect, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap

from client.api import ApiError
from client.tasks import run_task
from client.widgets.cover_decode import UndecodableCover, decode_cover
from client.widgets.covers import placeholder_cover

log = logging.getLogger(__name__)
DEFAULT_CAPACITY_ALBUMS = 120
LARGEST_VIEW_PX = 200  # the album page's cover, the biggest any view draws; kept no larger, in device pixels
RETRY_AFTER_S = 60.0


@dataclass
class _Cover:
    source: QImage
    scaled: dict[int, QPixmap] = field(default_factory=dict)


class CoverCache(QObject):
    """Real album covers by album id, as square pixmaps of the sizes the views ask for.

    Signals:
        cover_ready(int): the album's real cover is now in memory; ask again for it.
        cover_unavailable(int): the album has no cover, or fetching it failed (retried after RETRY_AFTER_S).
    """

    cover_ready = Signal(int)
    cover_unavailable = Signal(int)

    def __init__(self, fetch: Callable[[int], bytes], capacity_albums: int = DEFAULT_CAPACITY_ALBUMS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._capacity = capacity_albums
        self._covers: OrderedDict[int, _Cover] = OrderedDict()
        self._pending: set[int] = set()
        self._missing: set[int] = set()
        self._failed_at: dict[int, float] = {}

    def pixmap(self, album_id: int, title: str, artist: str, size: int, *, has_cover: bool = True) -> QPixmap:
        """The album's cover at ``size`` px square: the real one when in memory, else the placeholder.

        Asking for a cover not yet in memory starts its fetch (once); ``cover_ready`` says when to ask again.
        """
        cover = self._covers.get(album_id)
        if cover is None:
            if has_cover:
                self._request(album_id)
            return placeholder_cover(title, artist, size)
        self._covers.move_to_end(album_id)
        if size not in cover.scaled:
            ratio = _device_pixel_ratio()
            scaled = QPixmap.fromImage(_square(cover.source, round(size * ratio)))
            scaled.setDevicePixelRatio(ratio)  # crisp on a HiDPI screen, ``size`` px to the layout
            cover.scaled[size] = scaled
        return cover.scaled[size]

    def _request(self, album_id: int) -> None:
        if album_id in self._pending or album_id in self._missing:
            return
        failed_at = self._failed_at.get(album_id)
        if failed_at is not None and time.monotonic() - failed_at < RETRY_AFTER_S:
            return
        self._pending.add(album_id)
        fetch, source_px = self._fetch, round(LARGEST_VIEW_PX * _device_pixel_ratio())
        run_task(lambda: _load(fetch, album_id, source_px), lambda image: self._on_loaded(album_id, image),
                 lambda message: self._on_failed(album_id, message))

    def _on_loaded(self, album_id: int, image: QImage | None) -> None:
        self._pending.discard(album_id)
        self._failed_at.pop(album_id, None)
        if image is None:
            self._missing.add(album_id)
            self.cover_unavailable.emit(album_id)
            return
        self._covers[album_id] = _Cover(image)
        self._covers.move_to_end(album_id)
        while len(self._covers) > self._capacity:
            self._covers.popitem(last=False)
        self.cover_ready.emit(album_id)

    def _on_failed(self, album_id: int, message: str) -> None:
        self._pending.discard(album_id)
        self._failed_at[album_id] = time.monotonic()
        log.warning("no cover for album %d for now: %s", album_id, message)
        self.cover_unavailable.emit(album_id)


def _device_pixel_ratio() -> float:
    """The highest of the screens' (asked on the UI thread: a worker must not)."""
    app = QGuiApplication.instance()
    return float(app.devicePixelRatio()) if isinstance(app, QGuiApplication) else 1.0


def _load(fetch: Callable[[int], bytes], album_id: int, source_px: int) -> QImage | None:
    """Fetch and decode a cover on a worker thread (QImage, unlike QPixmap, may live there), kept no larger than
    ``source_px``; None: it has none. Raises UndecodableCover for bytes that are not a cover."""
    try:
        data = fetch(album_id)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    try:
        return decode_cover(data, source_px)
    except UndecodableCover as exc:
        raise UndecodableCover(f"the cover of album {album_id} cannot be shown: {exc}") from None


def _square(image: QImage, size: int) -> QImage:
    """``image`` scaled to cover ``size`` x ``size`` and centre-cropped (covers are square, or nearly)."""
    scaled = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                          Qt.TransformationMode.SmoothTransformation)
    return scaled.copy(QRect((scaled.width() - size) // 2, (scaled.height() - size) // 2, size, size))
