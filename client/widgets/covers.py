"""Album art: the server's cover when it has one, else a placeholder drawn from the album's name."""

from __future__ import annotations

import functools
import hashlib

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QLinearGradient, QPainter, QPixmap


@functools.lru_cache(maxsize=512)
def placeholder_cover(title: str, artist: str, size: int) -> QPixmap:
    """A gradient in colours picked from the album's name, with its initials: stable across runs."""
    digest = hashlib.sha256(f"{title}\0{artist}".encode()).digest()
    pixmap = QPixmap(size, size)
    painter = QPainter(pixmap)
    gradient = QLinearGradient(0, 0, size, size)
    gradient.setColorAt(0, QColor.fromHsv(digest[0] * 360 // 256, 150, 200))
    gradient.setColorAt(1, QColor.fromHsv(digest[1] * 360 // 256, 200, 90))
    painter.fillRect(0, 0, size, size, gradient)
    painter.setPen(QColor(255, 255, 255, 220))
    font = QFont()
    font.setPixelSize(max(size // 4, 8))
    font.setBold(True)
    painter.setFont(font)
    initials = "".join(word[0] for word in title.split()[:2] if word[0].isalnum()).upper() or "♪"
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, initials)
    painter.end()
    return pixmap
