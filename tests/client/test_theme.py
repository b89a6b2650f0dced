"""The theme on the real QApplication: dark and light palettes and the chrome's stylesheet, and "system" following
the platform."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget

from client.widgets.theme import DARK, LIGHT, Theme, heading


def window_colour() -> QColor:
    return QApplication.palette().color(QPalette.ColorRole.Window)


@pytest.fixture
def theme(qapp):
    made = Theme("dark")
    yield made
    QGuiApplication.styleHints().unsetColorScheme()
    made.choose("dark")


def test_the_palette_goes_on_at_once_and_the_stylesheet_on_the_chrome_it_is_given(qtbot, theme: Theme) -> None:
    chrome = QWidget()
    qtbot.addWidget(chrome)
    assert window_colour() == QColor(DARK.window) and chrome.styleSheet() == ""
    theme.style_widgets(chrome)
    assert DARK.accent in chrome.styleSheet()
    theme.choose("light")
    assert theme.shown == "light" and window_colour() == QColor(LIGHT.window)
    assert LIGHT.accent in chrome.styleSheet() and DARK.accent not in chrome.styleSheet()
    assert QApplication.instance().styleSheet() == ""  # pages keep the palette alone (no per-widget rule caches)


def test_a_widget_with_a_stylesheet_of_its_own_takes_the_new_themes_colours(qtbot, theme: Theme) -> None:
    button = QPushButton("Harbour Static")
    button.setFlat(True)
    button.setStyleSheet("text-align: left")  # as the album page's link to its artist
    qtbot.addWidget(button)
    button.show()
    qtbot.waitExposed(button)

    def text_colour() -> QColor:
        drawn = button.grab().toImage()
        background = drawn.pixelColor(1, 1)
        inked = [drawn.pixelColor(x, y) for x in range(drawn.width()) for y in range(drawn.height())]
        return max(inked, key=lambda colour: abs(colour.lightness() - background.lightness()))

    assert text_colour().lightness() > 128  # light text on the dark theme
    theme.choose("light")
    assert text_colour().lightness() < 128, "the text kept the dark theme's colour on the light one"


def test_headings_follow_the_type_scale(qapp) -> None:
    body = QApplication.font().pointSizeF()
    page, section = heading(QLabel("Home"), "page"), heading(QLabel("Albums"), "section")
    assert page.font().pointSizeF() > section.font().pointSizeF() > body and page.font().bold()


def test_system_follows_the_platforms_colour_scheme_while_chosen(qtbot, theme: Theme) -> None:
    hints = QGuiApplication.styleHints()
    theme.choose("system")
    hints.setColorScheme(Qt.ColorScheme.Light)
    if hints.colorScheme() != Qt.ColorScheme.Light:
        pytest.skip("this Qt platform does not let an application set its colour scheme")
    qtbot.waitUntil(lambda: theme.shown == "light", timeout=2_000)
    assert window_colour() == QColor(LIGHT.window)
    hints.setColorScheme(Qt.ColorScheme.Dark)
    qtbot.waitUntil(lambda: theme.shown == "dark", timeout=2_000)
    theme.choose("light")  # a scheme chosen by name no longer follows the platform
    hints.setColorScheme(Qt.ColorScheme.Light)
    hints.setColorScheme(Qt.ColorScheme.Dark)
    assert theme.shown == "light" and window_colour() == QColor(LIGHT.window)
