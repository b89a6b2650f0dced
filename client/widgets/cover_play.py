"""The play button a card shows over its cover while the pointer is on it: painted by an item delegate, so every
cover grid has it without a widget per card. It only paints and says where it is; the grid acts on clicks.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, Qt
from PySide6.QtGui import QPainter, QPalette, QPolygonF
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

BUTTON_PX = 44
MARGIN_PX = 8


def button_rect(cover: QRect) -> QRect:
    """Where the play button sits on a cover drawn in ``cover``: its bottom-right corner."""
    size = min(BUTTON_PX, cover.width() // 2, cover.height() // 2)
    return QRect(cover.right() - MARGIN_PX - size + 1, cover.bottom() - MARGIN_PX - size + 1, size, size)


def cover_rect(option: QStyleOptionViewItem, widget: QWidget | None) -> QRect:
    """Where the style draws an item's cover (its decoration) in ``option``."""
    style = widget.style() if widget is not None else QApplication.style()
    return style.subElementRect(QStyle.SubElement.SE_ItemViewItemDecoration, option, widget)


class CoverPlayDelegate(QStyledItemDelegate):
    """Paints items as the style does, and a round accent play button on the cover of the one ``shows_button``
    names (the hovered card, when it can be played)."""

    def __init__(self, shows_button: Callable[[QModelIndex | QPersistentModelIndex], bool],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shows_button = shows_button

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint(painter, option, index)
        if not self._shows_button(index):
            return
        shown = QStyleOptionViewItem(option)
        self.initStyleOption(shown, index)
        rect = button_rect(cover_rect(shown, option.widget))
        colours = option.palette
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colours.color(QPalette.ColorRole.Highlight))
        painter.drawEllipse(rect)
        painter.setBrush(colours.color(QPalette.ColorRole.HighlightedText))
        side = rect.width() * 0.36
        centre = QPointF(rect.center()) + QPointF(side * 0.12, 0.5)
        painter.drawPolygon(QPolygonF([centre + QPointF(-side / 2, -side * 0.58),
                                       centre + QPointF(-side / 2, side * 0.58), centre + QPointF(side * 0.55, 0)]))
        painter.restore()
