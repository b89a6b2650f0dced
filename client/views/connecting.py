"""The small window shown while the app connects: what startup is doing, or why it cannot reach its server.

It goes away when the main window opens on a complete session; it never holds any part of that session.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from client.widgets.controls import named


class ConnectingWindow(QWidget):
    """"Connecting…" with the latest progress line; a failure stays on view until the user closes the window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectingWindow")
        self.setWindowTitle("Legato")
        self.resize(480, 160)
        self.status = named(QLabel("Connecting…"), "connectingStatus", "Connection progress", tooltip="")
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        QVBoxLayout(self).addWidget(self.status)

    def show_progress(self, line: str) -> None:
        self.status.setText(line)

    def show_failure(self, message: str) -> None:
        self.status.setText(f"Cannot connect: {message}")
