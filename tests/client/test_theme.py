"""The theme on the real QApplication: dark and light palettes and stylesheet, and "system" following the platform."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from client.widgets.theme import DARK, LIGHT, Theme


def window_colour() -> QColor:
    return QApplication.palette().color(QPalette.ColorRole.Window)


@pytest.fixture
def theme(qapp):
    made = Theme("dark")
    made.style_widgets()
    yield made
    QGuiApplication.styleHints().unsetColorScheme()
    made.choose("dark")
    QApplication.instance().setStyleSheet("")  # the next test's widgets are built unstyled, as the app builds its own


def test_the_palette_goes_on_at_once_and_the_stylesheet_when_the_widgets_are_built(qapp) -> None:
    theme = Theme("light")
    assert window_colour() == QColor(LIGHT.window) and QApplication.instance().styleSheet() == ""
    theme.style_widgets()
    assert LIGHT.accent in QApplication.instance().styleSheet()
    theme.choose("dark")
    QApplication.instance().setStyleSheet("")


def test_choosing_a_theme_changes_the_palette_and_the_stylesheet(theme: Theme) -> None:
    assert window_colour() == QColor(DARK.window) and DARK.accent in QApplication.instance().styleSheet()
    theme.choose("light")
    assert theme.shown == "light" and window_colour() == QColor(LIGHT.window)
    assert LIGHT.accent in QApplication.instance().styleSheet()


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
