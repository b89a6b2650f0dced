"""Python's cyclic garbage collector, run on the UI thread only, while an app holds it.

Left automatic, a collection runs on whichever thread passes a generation's threshold with its next allocation. When
that is a worker (a cover decode, the session bus reader) and the garbage holds a Qt object in a reference cycle,
the object's C++ destructor runs on that worker: it takes Qt's signal-slot lock, then waits for the GIL, while the
UI thread holds the GIL and waits for that lock to connect a signal. The app hangs for good (seen in CI, and under
gdb in a loop of the app's tests). A Qt object must die on its own thread anyway.

So while held, automatic collection is off and a timer on the UI thread collects what it would have: the oldest
generation whose count has passed its threshold, and the oldest one only by CPython's own rule, once the objects
that survived into it since the last full collection are a quarter of those it held then (a full collection of a
started app takes ~90 ms). pyqtgraph's GarbageCollector does the timer; it is not used here because importing
pyqtgraph would cost the app's start the time it keeps short. ``freeze_started_app`` takes what the start made out
of the collector's sight (``gc.freeze``) until the last hold ends.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QTimer

COLLECT_EVERY_MS = 250


class _Collector:
    def __init__(self) -> None:
        self.holders = 0
        self.was_enabled = True
        self.timer: QTimer | None = None
        self.frozen = False
        self.long_lived = 0  # the oldest generation's size after the last full collection

    def full_collection_due(self) -> bool:
        return len(gc.get_objects(2)) - self.long_lived > self.long_lived // 4

    def hold(self) -> None:
        if self.holders == 0:
            self.was_enabled = gc.isenabled()
            gc.disable()
            self.long_lived = len(gc.get_objects(2))  # as if just collected: what it holds now is the baseline
            self.timer = QTimer(QCoreApplication.instance())
            self.timer.timeout.connect(collect_due)
            self.timer.start(COLLECT_EVERY_MS)
        self.holders += 1

    def release(self) -> None:
        self.holders -= 1
        if self.holders == 0 and self.timer is not None:
            self.timer.stop()
            self.timer.deleteLater()
            self.timer = None
            if self.frozen:
                gc.unfreeze()  # what the app's start made may be garbage now: the collector sees it again
                self.frozen = False
            collect_due()
            if self.was_enabled:
                gc.enable()


_collector = _Collector()


def collect_due() -> None:
    """The collection automatic GC would have made by now, if any: the oldest generation past its threshold (the
    oldest of all only once a quarter more objects have survived into it since the last full collection)."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    due = -1
    for generation in range(3):
        if counts[generation] <= thresholds[generation]:
            break
        due = generation
    if due == 2 and not _collector.full_collection_due():
        due = 1
    if due >= 0:
        gc.collect(due)
    if due == 2:
        _collector.long_lived = len(gc.get_objects(2))


def freeze_started_app() -> None:
    """Take every object alive now (modules, classes, the window just built) out of the collector's sight, so a
    full collection scans only what came after; undone by the last release. Only while held, on the UI thread."""
    if _collector.holders and not _collector.frozen:
        gc.freeze()
        _collector.frozen = True
        _collector.long_lived = 0


def hold_ui_thread_gc() -> Callable[[], None]:
    """Collect garbage on the UI thread only (call this there, with the QApplication made) until the returned
    function is called; holds nest, and the last release puts automatic collection back as it was."""
    _collector.hold()
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            _collector.release()

    return release
