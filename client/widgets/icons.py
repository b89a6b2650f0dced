"""Icons drawn from the Phosphor icon font (MIT licence) that qtawesome ships: vector glyphs, crisp at any scale.

Only that one font is loaded, and only when the first icon is painted; making an icon costs no file read, and the
few glyphs drawn are named here rather than read from the font's charmap. The colour
comes from the application's palette at paint time, so a theme switch re-tints every icon without remaking any.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap

FONT_FILE = "phosphor-1.3.0.ttf"
CHARMAP_FILE = "phosphor-charmap-1.3.0.json"  # tests/client/test_icons.py holds GLYPHS to it
# The glyphs the app draws, by Phosphor's name: the font's charmap holds 4,470, and parsing it all costs a MB.
GLYPHS = {
    "books": 0xf098, "books-fill": 0xf802, "clock-counter-clockwise": 0xf0fc, "clock-counter-clockwise-bold": 0xf47a,
    "chart-bar": 0xf0d2, "chart-bar-fill": 0xf83c,
    "desktop": 0xf12e, "download-simple": 0xf14c, "download-simple-bold": 0xf4e4, "heart": 0xf1ca,
    "heart-fill": 0xf935, "house": 0xf1d8, "house-fill": 0xf942, "magnifying-glass": 0xf20a,
    "magnifying-glass-bold": 0xf5e6, "pause-fill": 0xf9c9, "play-fill": 0xf9e7, "playlist": 0xf27e,
    "playlist-fill": 0xf9e8, "queue": 0xf294, "repeat": 0xf29f, "repeat-once": 0xf2a0, "shuffle": 0xf2c3,
    "skip-back-fill": 0xfa35, "skip-forward-fill": 0xfa37, "speaker-high": 0xf2e0, "speaker-x": 0xf2e9,
    "user": 0xf346, "user-circle": 0xf347,
}
GLYPH_SCALE = 0.92  # of the icon's height: Phosphor's glyphs carry their own padding


class IconFontMissing(RuntimeError):
    """qtawesome's Phosphor font is not installed where this module looks for it."""


@functools.cache
def font_dir() -> Path:
    """Where qtawesome keeps its fonts and charmaps."""
    spec = importlib.util.find_spec("qtawesome")  # finds the package without importing it (and its other fonts)
    if spec is None or not spec.submodule_search_locations:
        raise IconFontMissing("qtawesome is not installed: pip install qtawesome")
    return Path(next(iter(spec.submodule_search_locations))) / "fonts"


@functools.cache
def _family() -> str:
    path = font_dir() / FONT_FILE
    font_id = QFontDatabase.addApplicationFont(str(path))
    if font_id < 0:
        raise IconFontMissing(f"Qt could not load the icon font {path}")
    return QFontDatabase.applicationFontFamilies(font_id)[0]


def glyph(name: str) -> str:
    """The character that draws Phosphor's icon ``name`` (KeyError for a name not in GLYPHS)."""
    return chr(GLYPHS[name])


class _GlyphEngine(QIconEngine):
    """Paints one glyph (another when the icon is On or Selected: a filled heart, the page on screen) in a palette
    colour."""

    def __init__(self, name: str, name_on: str | None, role: QPalette.ColorRole) -> None:
        super().__init__()
        self._name = name
        self._name_on = name_on
        self._role = role

    def _colour(self, mode: QIcon.Mode, state: QIcon.State) -> QColor:
        colours = QGuiApplication.palette()
        if mode == QIcon.Mode.Disabled:
            return colours.color(QPalette.ColorRole.PlaceholderText)
        if state == QIcon.State.On and self._name_on is None:
            return colours.color(QPalette.ColorRole.Highlight)  # a checked toggle (shuffle, repeat) in the accent
        return colours.color(self._role)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        filled = state == QIcon.State.On or mode == QIcon.Mode.Selected
        name = self._name_on if filled and self._name_on is not None else self._name
        font = QFont(_family())
        font.setPixelSize(max(round(rect.height() * GLYPH_SCALE), 1))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setFont(font)
        painter.setPen(self._colour(mode, state))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), glyph(name))
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        # Drawn at the screen's pixel density, so a 2x display gets twice the pixels rather than an upscale.
        drawn = QPixmap(size * scale)
        drawn.setDevicePixelRatio(scale)
        drawn.fill(Qt.GlobalColor.transparent)
        painter = QPainter(drawn)
        self.paint(painter, QRect(QPoint(0, 0), size), mode, state)
        painter.end()
        return drawn

    def clone(self) -> QIconEngine:
        return _GlyphEngine(self._name, self._name_on, self._role)


def icon(name: str, name_on: str | None = None, role: QPalette.ColorRole = QPalette.ColorRole.ButtonText) -> QIcon:
    """Phosphor's ``name`` (e.g. "play-fill") in the palette's ``role``; ``name_on`` for the On state (a filled
    heart, the page on screen), else the On state is ``name`` in the accent colour.

    Cheap: nothing is loaded until it is painted."""
    return QIcon(_GlyphEngine(name, name_on, role))
