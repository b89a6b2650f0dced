"""Telling pictures apart in tests: by the mean colour of each quadrant, which survives smooth scaling."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QImage, QPainter, QPixmap


def quadrant_colours(image: QImage) -> np.ndarray:
    """Mean RGB of each quadrant (4 x 3): survives smooth scaling, tells one picture from another."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = rgb.width(), rgb.height()
    rows = np.frombuffer(rgb.constBits(), np.uint8).reshape(height, rgb.bytesPerLine())
    pixels = rows[:, :width * 3].reshape(height, width, 3).astype(float)
    half_h, half_w = height // 2, width // 2
    return np.array([pixels[y:y + half_h, x:x + half_w].mean(axis=(0, 1))
                     for y in (0, half_h) for x in (0, half_w)])


def looks_like(shown: Any, image: QImage) -> bool:
    """Whether ``shown`` is a picture (a QPixmap or a QImage) with ``image``'s quadrant colours."""
    picture = shown.toImage() if isinstance(shown, QPixmap) else shown
    return isinstance(picture, QImage) and bool(
        np.abs(quadrant_colours(picture) - quadrant_colours(image)).max() < 6)


def quartered_picture(width: int, height: int) -> QImage:
    """A dark cyan picture whose top-left quadrant is yellow: a crop or scale that moves it shows."""
    picture = QImage(width, height, QImage.Format.Format_RGB32)
    picture.fill(Qt.GlobalColor.darkCyan)
    painter = QPainter(picture)
    painter.fillRect(0, 0, width // 2, height // 2, Qt.GlobalColor.yellow)
    painter.end()
    return picture


def encoded(picture: QImage, image_format: str) -> bytes:
    """``picture`` as the bytes of a file of ``image_format`` ("PNG", "JPEG")."""
    served = QBuffer()
    served.open(QIODevice.OpenModeFlag.WriteOnly)
    picture.save(served, image_format)
    return bytes(served.data())
