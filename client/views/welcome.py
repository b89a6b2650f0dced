"""The first-run welcome on Home: what the demo is and how to begin; closed once, it stays closed."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from client.widgets.controls import named
from client.widgets.theme import heading

TEXT = ("Legato is playing its demo catalog: a few albums made on this computer by the bundled server, signed in as "
        "“demo”. Double-click a track to play it, search forgives typos, hearts fill Liked Songs, and Downloads keep "
        "albums for offline listening. To use your own server, open Settings (Ctrl+,).")


class WelcomeBanner(QFrame):
    """A banner that explains the demo, with a button that closes it for good.

    Signals:
        dismissed(): the user closed it (the app remembers, so it is shown only once).
    """

    dismissed = Signal()

    def __init__(self) -> None:
        super().__init__()
        named(self, "welcomeBanner", "Welcome", "")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        title = QLabel("Welcome to Legato")
        heading(title, "section")
        body = named(QLabel(TEXT), "welcomeText", "About the demo", "")
        body.setWordWrap(True)
        body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = named(QPushButton("Got it"), "welcomeDismissButton", "Close the welcome",
                                  "Close this welcome; it will not be shown again")
        self.close_button.clicked.connect(self._on_close_button_clicked)
        text = QVBoxLayout()
        text.addWidget(title)
        text.addWidget(body)
        row = QHBoxLayout(self)
        row.addLayout(text, 1)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)

    def _on_close_button_clicked(self) -> None:
        self.hide()
        self.dismissed.emit()
