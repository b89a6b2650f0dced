"""Background work handed back to the UI thread: the result reaches its callback, and a callback whose widget
was deleted while the work ran (a window closed meanwhile) is dropped instead of raising on a dead object."""

from __future__ import annotations

import threading
from typing import Any

import shiboken6
from PySide6.QtWidgets import QLabel

from client import tasks
from client.tasks import run_task


def test_the_result_reaches_its_callback(qtbot: Any) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    run_task(lambda: "done", label.setText, label.setText)
    qtbot.waitUntil(lambda: label.text() == "done", timeout=5_000)


def test_a_callback_of_a_deleted_widget_is_dropped(qtbot: Any) -> None:
    label = QLabel()
    release = threading.Event()
    run_task(lambda: release.wait(10) and "late", label.setText, label.setText)
    shiboken6.delete(label)  # as a closed window's child goes
    release.set()
    qtbot.waitUntil(lambda: not tasks._pending, timeout=5_000)  # handed back (and dropped) without an exception
