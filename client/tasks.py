"""Run blocking work (network, disk) on Qt's thread pool and hand the result back on the UI thread.

The UI thread never waits: it gets a callback through a queued signal when the work is done.

Everything a task holds (its work, its callbacks, whatever they close over) is released on the UI thread, and the
one QObject that carries results back lives there for the whole run. A QObject (or a widget a closure holds) whose
last reference went away on a pool thread would be destroyed there, with the GIL released by shiboken around the
C++ destructor; disconnecting its Python slots then waits for the GIL while holding one of Qt's signal-slot
mutexes, which the UI thread, holding the GIL, may be waiting for in any ``connect``: the app froze that way.
"""

from __future__ import annotations

import functools
import itertools
import logging
import queue
from collections.abc import Callable
from typing import Any, NamedTuple

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)
TaskRunner = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[str], None]], None]
"""What ``run_task`` is, for the parts that are handed it (tests hand in their own)."""


class _Callbacks(NamedTuple):
    work: Callable[[], Any]
    on_done: Callable[[Any], None]
    on_error: Callable[[str], None]


class _Delivery(QObject):
    """Lives on the UI thread: a finished task queues its outcome and emits ``ready`` (no arguments, so Qt copies
    no Python object across threads); each ``ready`` hands one outcome to its callback here."""

    ready = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[int, _Callbacks] = {}
        self._outcomes: queue.SimpleQueue[tuple[int, bool, Any]] = queue.SimpleQueue()
        self.ready.connect(self._deliver)

    def post(self, token: int, succeeded: bool, value: Any) -> None:
        """From a pool thread: the task ``token`` ended with ``value`` (its result, or a message if it failed)."""
        self._outcomes.put((token, succeeded, value))
        self.ready.emit()

    @Slot()
    def _deliver(self) -> None:
        token, succeeded, value = self._outcomes.get_nowait()
        callbacks = self.pending.pop(token)
        callback: Callable[[Any], None] = callbacks.on_done if succeeded else callbacks.on_error
        owner = getattr(callback, "__self__", None)
        if isinstance(owner, QObject) and not shiboken6.isValid(owner):
            log.debug("dropping the result of a task whose receiver was deleted")
            return
        callback(value)


class _Task(QRunnable):
    """Holds only its token: the work is looked up, called and let go before the outcome is posted."""

    def __init__(self, delivery: _Delivery, token: int) -> None:
        super().__init__()
        self._delivery = delivery
        self._token = token

    def run(self) -> None:
        try:
            outcome: tuple[bool, Any] = (True, self._delivery.pending[self._token].work())
        except Exception as exc:  # every failure reaches the UI as a message, none is lost
            log.exception("background task failed")
            outcome = (False, str(exc) or exc.__class__.__name__)
        self._delivery.post(self._token, *outcome)


_tokens = itertools.count()


@functools.cache
def _the_delivery() -> _Delivery:
    """The one delivery object, made on the UI thread by the first task (every task is started from there)."""
    return _Delivery()


def pending_tasks() -> int:
    """How many tasks have not yet been handed back (their callback run or dropped)."""
    return len(_the_delivery().pending)


def run_task(work: Callable[[], Any], on_done: Callable[[Any], None],
             on_error: Callable[[str], None]) -> None:
    """Run ``work`` on the global thread pool; call ``on_done(result)`` or ``on_error(message)`` on this thread.

    A callback that is a method of a Qt object deleted meanwhile (a window closed while its work ran) is dropped.
    """
    delivery = _the_delivery()
    token = next(_tokens)
    delivery.pending[token] = _Callbacks(work, on_done, on_error)
    QThreadPool.globalInstance().start(_Task(delivery, token))
