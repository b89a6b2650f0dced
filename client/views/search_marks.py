"""Matched text shown emphasised in search results: names as HTML with the query's matches in bold, and a delegate
that paints a list's or a table column's names that way.

It only draws what the server said matched (``SearchResults.highlights``); it never matches anything itself.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QAbstractTextDocumentLayout, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

Spans = Sequence[tuple[int, int]]
SpansOf = Callable[[QModelIndex | QPersistentModelIndex], Spans]


def marked_html(text: str, spans: Spans) -> str:
    """``text`` as HTML, the characters in ``spans`` in bold (spans past the text's end are ignored)."""
    parts: list[str] = []
    at = 0
    for start, end in sorted(spans):
        if start < at or end > len(text) or start >= end:
            continue
        parts += [html.escape(text[at:start]), f"<b>{html.escape(text[start:end])}</b>"]
        at = end
    parts.append(html.escape(text[at:]))
    return "".join(parts)


class HighlightDelegate(QStyledItemDelegate):
    """Paints an item's display text with the spans ``spans_of(index)`` gives in bold."""

    def __init__(self, spans_of: SpansOf, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spans_of = spans_of

    def _document(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QTextDocument:
        document = QTextDocument()
        document.setDefaultFont(option.font)
        document.setDocumentMargin(2)
        document.setHtml(marked_html(str(index.data(Qt.ItemDataRole.DisplayRole) or ""), self._spans_of(index)))
        return document

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        document = self._document(item, index)
        item.text = ""
        style = item.widget.style() if item.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, item.widget)
        context = QAbstractTextDocumentLayout.PaintContext()
        selected = bool(item.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        context.palette.setColor(QPalette.ColorRole.Text, item.palette.color(role))
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, item, item.widget)
        painter.save()
        # Centred in the row like the plain cells beside it.
        painter.translate(text_rect.left(), text_rect.top() + max(0.0, (text_rect.height()
                                                                         - document.size().height()) / 2))
        painter.setClipRect(text_rect.translated(-text_rect.topLeft()))
        document.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), round(self._document(option, index).size().height())))
