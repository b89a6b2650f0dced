"""An event-loop lag probe: how late the UI thread runs a timer it asked for, i.e. how long it was blocked."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer

TICK_MS = 5


class LagProbe(QObject):
    """Ticks every few milliseconds on the UI thread and keeps the worst and recent lateness."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._last = 0.0
        self.max_lag_ms = 0.0
        self.lags_ms: list[float] = []

    def start(self) -> None:
        self.reset()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def reset(self) -> None:
        self._last = time.perf_counter()
        self.max_lag_ms = 0.0
        self.lags_ms = []

    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        lag_ms = max((now - self._last) * 1000 - TICK_MS, 0.0)
        self._last = now
        self.lags_ms.append(lag_ms)
        self.max_lag_ms = max(self.max_lag_ms, lag_ms)
