"""Run blocking work (network, disk) on Qt's thread pool and hand the result back on the UI thread.

The UI thread never waits: it gets a callback through a queued signal when the work is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)
TaskRunner = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[str], None]], None]
"""What ``run_task`` is, for the parts that are handed it (tests hand in their own)."""


class _TaskSignals(QObject):
    """Signals: finished(object) with the result; failed(str) with a message fit for the user."""

    finished = Signal(object)
    failed = Signal(str)


class _Task(QRunnable):
    def __init__(self, work: Callable[[], Any], signals: _TaskSignals) -> None:
        super().__init__()
        self._work = work
        self._signals = signals

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as exc:  # every failure reaches the UI as a message, none is lost
            log.exception("background task failed")
            self._signals.failed.emit(str(exc) or exc.__class__.__name__)
        else:
            self._signals.finished.emit(result)


_pending: set[_TaskSignals] = set()


def run_task(work: Callable[[], Any], on_done: Callable[[Any], None],
             on_error: Callable[[str], None]) -> None:
    """Run ``work`` on the global thread pool; call ``on_done(result)`` or ``on_error(message)`` on this thread.

    A callback that is a method of a Qt object deleted meanwhile (a window closed while its work ran) is dropped.
    """
    signals = _TaskSignals()
    _pending.add(signals)

    def finish(callback: Callable[[Any], None], value: Any) -> None:
        _pending.discard(signals)
        owner = getattr(callback, "__self__", None)
        if isinstance(owner, QObject) and not shiboken6.isValid(owner):
            log.debug("dropping the result of a task whose receiver was deleted")
            return
        callback(value)

    signals.finished.connect(lambda result: finish(on_done, result))
    signals.failed.connect(lambda message: finish(on_error, message))
    QThreadPool.globalInstance().start(_Task(work, signals))
