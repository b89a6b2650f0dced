"""A one-line label that cuts its text with "…" to the width it is given, the whole text then in its tooltip.

It never asks for more width than a few characters, so a long title cannot widen the window or make it scroll.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

SEPARATOR = " — "
_MIN_CHARS = 6


class ElidedLabel(QLabel):
    """Shows ``parts`` (text, and a link target or None) joined by " — ", each cut to its share of the width.

    ``text()`` is the whole plain text; a link's activation arrives as ``linkActivated(target)``.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._parts: list[tuple[str, str | None]] = []
        self._tooltip = ""
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.set_parts([(text, None)])

    def text(self) -> str:  # the whole plain text, not the elided markup shown
        return SEPARATOR.join(part for part, _ in self._parts if part)

    def setText(self, text: str) -> None:  # plain text, elided
        self.set_parts([(text, None)])

    def set_parts(self, parts: Sequence[tuple[str, str | None]]) -> None:
        self._parts = [(text, target) for text, target in parts]
        self._render()

    def setToolTip(self, tooltip: str) -> None:  # the tooltip while nothing is cut; the whole text when it is
        self._tooltip = tooltip
        self._render()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(self.fontMetrics().averageCharWidth() * _MIN_CHARS, hint.height())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange, QEvent.Type.FontChange):
            super().setText("")  # QLabel keeps a laid-out text as long as it is the same: links take the new colours
            self._render()

    def _render(self) -> None:
        shown = [(text, target) for text, target in self._parts if text]
        metrics = self.fontMetrics()
        room = self.contentsRect().width()
        width = max(room - metrics.horizontalAdvance(SEPARATOR) * (len(shown) - 1), 0)
        # All of it when it fits; else each part gets an even share.
        share = width // max(len(shown), 1) if metrics.horizontalAdvance(self.text()) > room else room
        cut = False
        pieces = []
        for text, target in shown:
            elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, share)
            cut = cut or elided != text
            piece = html.escape(elided)
            pieces.append(f"<a href='{html.escape(target)}'>{piece}</a>" if target else piece)
        super().setText(html.escape(SEPARATOR).join(pieces))
        whole = self.text()
        super().setToolTip(whole if cut else self._tooltip)
