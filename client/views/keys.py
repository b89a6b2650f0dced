"""The main window's keyboard shortcuts and menus; each calls what the window, its bar or playback already offers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut

if TYPE_CHECKING:
    from client.views.window import MainWindow

VOLUME_STEP = 0.05


def add_shortcuts(window: MainWindow) -> None:
    """Space, Ctrl+arrows, Ctrl+F/S/R/M: the keys the now-playing bar's tooltips name."""
    playback, bar = window.playback, window.now_playing

    def on(keys: QKeySequence | str, slot: Any) -> None:
        QShortcut(QKeySequence(keys), window, slot, context=Qt.ShortcutContext.WindowShortcut)

    def nudge_volume(step: float) -> None:
        bar.volume.setValue(bar.volume.value() + round(step * 100))

    def focus_search() -> None:
        window.go_to("Search")
        window.search.focus_field()

    on(QKeySequence(Qt.Key.Key_Space), playback.toggle_pause)
    on("Ctrl+Right", playback.next)
    on("Ctrl+Left", playback.previous)
    on("Ctrl+Up", lambda: nudge_volume(VOLUME_STEP))
    on("Ctrl+Down", lambda: nudge_volume(-VOLUME_STEP))
    on("Ctrl+F", focus_search)
    on("Ctrl+S", lambda: bar.shuffle.toggle())
    on("Ctrl+R", lambda: bar.repeat.click())
    on("Ctrl+M", lambda: bar.mute.toggle())


def add_menus(window: MainWindow) -> None:
    """Legato (Settings, Quit) and View (the queue, in step with the bar's queue button)."""
    def action(text: str, object_name: str, slot: Any, shortcut: QKeySequence | None = None) -> QAction:
        made = QAction(text, window)
        made.setObjectName(object_name)
        if shortcut is not None:
            made.setShortcut(shortcut)
        made.triggered.connect(slot)
        return made

    menu = window.menuBar().addMenu("&Legato")
    menu.addAction(action("&Settings…", "settingsAction", window.settings_requested, QKeySequence("Ctrl+,")))
    menu.addAction(action("&Quit", "quitAction", window.close, QKeySequence(QKeySequence.StandardKey.Quit)))
    toggle = window.now_playing.queue
    show_queue = action("Show &queue", "showQueueAction", toggle.setChecked, QKeySequence("Ctrl+Shift+Q"))
    show_queue.setCheckable(True)
    show_queue.setChecked(True)
    toggle.toggled.connect(show_queue.setChecked)
    window.menuBar().addMenu("&View").addAction(show_queue)
