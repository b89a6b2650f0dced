"""Background work handed back to the UI thread: the result reaches its callback, a callback whose widget was
deleted while the work ran (a window closed meanwhile) is dropped instead of raising on a dead object, and what a
task holds is let go on the UI thread (a Qt object destroyed on a pool thread can deadlock the app)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtWidgets import QLabel

from client.tasks import pending_tasks, run_task


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
    qtbot.waitUntil(lambda: pending_tasks() == 0, timeout=5_000)  # handed back (and dropped) without an exception


class _Finalised:
    """Callable; records the thread it was let go on."""

    def __init__(self, released_on: list[str], returns: Callable[[], Any]) -> None:
        self._released_on = released_on
        self._returns = returns

    def __call__(self, *args: Any) -> Any:
        return self._returns()

    def __del__(self) -> None:
        self._released_on.append(threading.current_thread().name)


def _fails() -> None:
    raise RuntimeError("no network")


def test_the_work_and_its_callbacks_are_let_go_on_the_ui_thread(qtbot: Any) -> None:
    released_on: list[str] = []
    results: list[str] = []
    run_task(_Finalised(released_on, lambda: "done"), _Finalised(released_on, lambda: results.append("done")),
             _Finalised(released_on, lambda: results.append("failed")))
    # (a failing work's own frame stays in the logged traceback, so only its callbacks are watched)
    run_task(_fails, _Finalised(released_on, lambda: results.append("done")),
             _Finalised(released_on, lambda: results.append("failed")))
    qtbot.waitUntil(lambda: pending_tasks() == 0, timeout=5_000)
    gc.collect()
    assert sorted(results) == ["done", "failed"]
    assert released_on == [threading.main_thread().name] * 5
