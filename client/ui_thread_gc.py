"""Python's cyclic garbage collector, run on the UI thread only, while an app holds it.

Left automatic, a collection runs on whichever thread passes a generation's threshold with its next allocation. When
that is a worker (a cover decode, the session bus reader) and the garbage holds a Qt object in a reference cycle,
the object's C++ destructor runs on that worker: it takes Qt's signal-slot lock, then waits for the GIL, while the
UI thread holds the GIL and waits for that lock to connect a signal. The app hangs for good (seen in CI, and under
gdb in a loop of the app's tests). A Qt object must die on its own thread anyway.

So while held, automatic collection is off and a timer on the UI thread collects what it would have: the oldest
generation whose count has passed its threshold. pyqtgraph's GarbageCollector does the same; it is not used here
because importing pyqtgraph would cost the app's start the time it keeps short (client/history/listening_page.py
imports it when the page is first shown).
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

    def hold(self) -> None:
        if self.holders == 0:
            self.was_enabled = gc.isenabled()
            gc.disable()
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
            collect_due()
            if self.was_enabled:
                gc.enable()


_collector = _Collector()


def collect_due() -> None:
    """The collection automatic GC would have made by now, if any: the oldest generation past its threshold."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    due = -1
    for generation in range(3):
        if counts[generation] <= thresholds[generation]:
            break
        due = generation
    if due >= 0:
        gc.collect(due)


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
