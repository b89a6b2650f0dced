"""The sidebar: one row per page, each with its icon; it only says which page was chosen."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from client.widgets.controls import named
from client.widgets.icons import icon

WIDTH_PX = 176
ICON_PX = 20
# Phosphor's glyph for each page, and the filled one for the page on screen.
PAGE_ICONS = {"Home": ("house", "house-fill"), "Search": ("magnifying-glass", "magnifying-glass-bold"),
              "Library": ("books", "books-fill"), "Liked Songs": ("heart", "heart-fill"),
              "History": ("clock-counter-clockwise", "clock-counter-clockwise-bold"),
              "Your listening": ("chart-bar", "chart-bar-fill"),
              "Playlists": ("playlist", "playlist-fill"), "Downloads": ("download-simple", "download-simple-bold")}


class Sidebar(QListWidget):
    """The pages by name, in the order they are added (the window keeps its page stack in the same order)."""

    def __init__(self, pages: tuple[str, ...]) -> None:
        super().__init__()
        named(self, "sidebar", "Sections", ", ".join(pages))
        self.setFixedWidth(WIDTH_PX)
        self.setIconSize(QSize(ICON_PX, ICON_PX))

    def add_page(self, name: str) -> None:
        plain, filled = PAGE_ICONS[name]
        item = QListWidgetItem(icon(plain, filled), name)
        self.addItem(item)

    def names(self) -> list[str]:
        return [self.item(row).text() for row in range(self.count())]
