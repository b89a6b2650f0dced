"""The seek bar with the track's waveform: bars of its loudness over time, the part played in the accent colour and
the rest dimmed, on a QSlider that keeps the slider's keys, mouse, signals and accessibility. Without a waveform
(an offline copy, an older server) it is the plain slider."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSlider, QWidget

BAR_PX = 2
GAP_PX = 1
HEIGHT_PX = 28
_LOWEST_PX = 2  # a silent slice still shows as a dot on the line


class WaveformSlider(QSlider):
    """``set_levels(levels)``: one byte a slice of the track (0 silence .. 255 full scale), or None for none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._levels: bytes | None = None
        self._bars: tuple[int, list[float]] = (0, [])  # for a width: each bar's height, 0..1

    @property
    def levels(self) -> bytes | None:
        return self._levels

    def set_levels(self, levels: bytes | None) -> None:
        self._levels = levels or None
        self._bars = (0, [])
        self.setMinimumHeight(HEIGHT_PX if self._levels else 0)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._levels is None:
            super().paintEvent(event)
            return
        area = self.contentsRect()
        span = self.maximum() - self.minimum()
        played_x = area.left() + (area.width() * (self.value() - self.minimum()) / span if span > 0 else 0)
        palette = self.palette()
        played, rest = palette.color(QPalette.ColorRole.Highlight), palette.color(QPalette.ColorRole.Mid)
        painter = QPainter(self)
        middle = area.center().y() + 0.5
        for index, height in enumerate(self._heights(area.width())):
            x = area.left() + index * (BAR_PX + GAP_PX)
            bar_px = max(_LOWEST_PX, height * area.height())
            painter.fillRect(QRectF(x, middle - bar_px / 2, BAR_PX, bar_px), played if x < played_x else rest)
        if self.hasFocus():
            painter.setPen(QPen(played, 1))
            painter.drawRoundedRect(QRectF(area).adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
        painter.end()

    def _heights(self, width: int) -> list[float]:
        """The levels as one bar each ``BAR_PX + GAP_PX`` across ``width``: each bar the loudest slice under it."""
        if self._bars[0] != width and self._levels is not None:
            levels = self._levels
            count = max(1, width // (BAR_PX + GAP_PX))
            bars = []
            for bar in range(count):
                start = bar * len(levels) // count
                stop = max(start + 1, (bar + 1) * len(levels) // count)
                bars.append(max(levels[start:stop]) / 255)
            self._bars = (width, bars)
        return self._bars[1]
