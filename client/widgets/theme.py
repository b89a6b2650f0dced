"""Legato's look: a dark and a light palette and the one stylesheet over both, applied to the whole application.

Applied once at start and again only when the user or the platform changes the scheme; it never builds widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from client.settings import THEMES, ThemeName

THEME_LABELS: dict[ThemeName, str] = {"dark": "Dark", "light": "Light", "system": "Same as the system"}
assert set(THEME_LABELS) == set(THEMES)


@dataclass(frozen=True)
class Colours:
    """One scheme's colours, each a #rrggbb: what the palette and the stylesheet are made of."""

    window: str  # behind everything
    surface: str  # lists, tables, fields
    raised: str  # the sidebar and the now-playing bar
    hover: str
    border: str
    text: str
    muted: str  # secondary text: artists, times, counts
    accent: str
    on_accent: str  # text on the accent
    link: str


DARK = Colours(window="#16171b", surface="#1d1e23", raised="#232429", hover="#2f3138", border="#393b43",
               text="#ececf1", muted="#a3a6b0", accent="#8b7cf6", on_accent="#ffffff", link="#b4aaff")
LIGHT = Colours(window="#f4f4f7", surface="#ffffff", raised="#ebebf0", hover="#dedee6", border="#cfd0d8",
                text="#17181c", muted="#5c5f69", accent="#5b47d6", on_accent="#ffffff", link="#4a36c4")
SCHEMES = {"dark": DARK, "light": LIGHT}

# The chrome's stylesheet: the sidebar, the now-playing bar and the status bar get it (Theme.style_widgets); pages
# get the palette and Fusion only. Under a stylesheet Qt keeps render rules per widget and state: on the whole
# application that was 3.5 MB of the 10,000-track benchmark's RSS. Focus rings are 2 px of accent, the padding
# giving back the width the ring adds so nothing moves when focus does.
_STYLESHEET = """
QListWidget#sidebar {{ background: {raised}; border: none; padding: 8px 6px; font-size: 11pt; }}
QListWidget#sidebar::item {{ padding: 8px 10px; border-radius: 6px; margin: 1px 0; }}
QListWidget#sidebar::item:hover {{ background: {hover}; }}
QListWidget#sidebar::item:selected {{ background: {hover}; color: {text}; border-left: 3px solid {accent}; }}
QListWidget#sidebar:focus {{ border: 2px solid {accent}; }}
QWidget#nowPlayingBar {{ background: {raised}; border-top: 1px solid {border}; }}
QLabel#nowPlayingLabel {{ font-size: 11pt; font-weight: 600; }}
QLabel#nowPlayingArtistLabel, QLabel#elapsedLabel, QLabel#remainingLabel {{ color: {muted}; }}
QToolButton {{ border: 2px solid transparent; border-radius: 6px; padding: 4px; background: transparent; }}
QToolButton:hover {{ background: {hover}; }}
QToolButton:focus {{ border-color: {accent}; }}
QPushButton[transport="true"] {{ background: transparent; border: 2px solid transparent; border-radius: 18px;
    padding: 0; }}
QPushButton[transport="true"]:hover {{ background: {hover}; }}
QPushButton[transport="true"]:focus {{ border-color: {accent}; }}
QPushButton#playPauseButton {{ background: {text}; border-radius: 20px; }}
QPushButton#playPauseButton:hover {{ background: {accent}; }}
QPushButton#playPauseButton:disabled {{ background: {border}; }}
QSlider::groove:horizontal {{ height: 4px; background: {border}; border-radius: 2px; }}
QSlider::sub-page:horizontal {{ background: {accent}; border-radius: 2px; }}
QSlider::handle:horizontal {{ background: {text}; width: 12px; height: 12px; margin: -4px 0; border-radius: 6px; }}
QSlider::handle:horizontal:hover, QSlider::handle:horizontal:focus {{ background: {accent}; }}
QStatusBar {{ background: {raised}; color: {muted}; }}
QStatusBar QLabel {{ color: {muted}; }}
"""
# The type scale, as multiples of the body font: a page's title and a section's.
HEADING_SCALE = {"page": 2.0, "section": 1.3}


def heading(label: QLabel, level: Literal["page", "section"]) -> QLabel:
    """Set ``label`` in the type scale's ``level``: larger and bold, from the application's body font."""
    font = QFont(label.font())
    font.setPointSizeF(QApplication.font().pointSizeF() * HEADING_SCALE[level])
    font.setWeight(QFont.Weight.Bold if level == "page" else QFont.Weight.DemiBold)
    label.setFont(font)
    return label


def stylesheet(colours: Colours) -> str:
    """The chrome's stylesheet in ``colours``."""
    return _STYLESHEET.format(**vars(colours))


def palette(colours: Colours) -> QPalette:
    """A QPalette in ``colours``, for what the stylesheet leaves to the style (item views, menus, scroll bars)."""
    made = QPalette()
    role = QPalette.ColorRole
    for roles, value in (((role.Window,), colours.window),
                         ((role.Button,), colours.hover),
                         ((role.Base, role.ToolTipBase), colours.surface),
                         ((role.AlternateBase,), colours.raised),
                         ((role.WindowText, role.Text, role.ButtonText, role.ToolTipText, role.BrightText),
                          colours.text),
                         ((role.PlaceholderText,), colours.muted),
                         ((role.Highlight,), colours.accent),
                         ((role.HighlightedText,), colours.on_accent),
                         ((role.Link,), colours.link),
                         ((role.Mid, role.Midlight, role.Dark), colours.border),
                         ((role.Light,), colours.hover)):
        for one in roles:
            made.setColor(one, QColor(value))
    for one in (role.WindowText, role.Text, role.ButtonText):
        made.setColor(QPalette.ColorGroup.Disabled, one, QColor(colours.muted))
    return made


def resolve(name: ThemeName) -> str:
    """"dark" or "light": ``name`` itself, or for "system" the platform's scheme (dark when it does not say)."""
    if name != "system":
        return name
    return "light" if QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Light else "dark"


class Theme(QObject):
    """The chosen theme on the application; follows the platform's scheme while "system" is chosen.

    The palette goes on at once, for every widget; the chrome's stylesheet with ``style_widgets()``, once the main
    window is built: under a stylesheet each widget added to a layout is polished again with everything below it
    (building the window took 880 ms instead of 190 with it on the application), while styling built widgets is
    one pass.
    """

    def __init__(self, name: ThemeName, parent: QObject | None = None) -> None:
        super().__init__(parent)
        app = QApplication.instance()
        assert isinstance(app, QApplication), "a Theme needs the QApplication made first"
        self._app = app
        self._name = name
        self._styled: list[QWidget] = []
        self._shown = resolve(name)
        app.setStyle("Fusion")  # draws from the palette on every platform, so both schemes look as designed
        app.styleHints().colorSchemeChanged.connect(self._on_hints_color_scheme_changed)
        self._apply()

    @property
    def shown(self) -> str:
        """"dark" or "light": the scheme on screen now."""
        return self._shown

    @property
    def sheet(self) -> str:
        """The chrome's stylesheet now on screen."""
        return stylesheet(SCHEMES[self._shown])

    def style_widgets(self, *widgets: QWidget) -> None:
        """Put the chrome's stylesheet on ``widgets`` (built ones: see the class) and keep it in step with the theme."""
        self._styled.extend(widgets)
        for widget in widgets:
            widget.setStyleSheet(self.sheet)

    def choose(self, name: ThemeName) -> None:
        self._name = name
        self._apply()

    def _on_hints_color_scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self._name == "system":
            self._apply()

    def _apply(self) -> None:
        self._shown = resolve(self._name)
        self._app.setPalette(palette(SCHEMES[self._shown]))
        self._styled = [widget for widget in self._styled if _alive(widget)]
        for widget in self._styled:
            widget.setStyleSheet(self.sheet)
        for widget in self._app.allWidgets():
            # A widget under a stylesheet of its own took its colours when it was polished; the new palette reaches
            # it only when it is polished again.
            if widget.styleSheet() and widget not in self._styled:
                widget.setStyleSheet(widget.styleSheet())


def _alive(widget: QWidget) -> bool:
    return shiboken6.isValid(widget)
