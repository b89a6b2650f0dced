"""The status bar's texts: a passing message, a lasting warning, and where plays came from (read off the UI
thread every few seconds). Each is cut to the room it has, whole in its tooltip, never widening the window."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QStatusBar

from cache import CacheStats
from client.tasks import run_task
from client.widgets.controls import named
from client.widgets.elided import ElidedLabel

STATS_POLL_MS = 2000


class StatusLine(QObject):
    """Fills `bar`; `cache_stats` (called on the thread pool) gives the figures, None without a disk cache."""

    def __init__(self, bar: QStatusBar, cache_stats: Callable[[], CacheStats | None]) -> None:
        super().__init__(bar)
        self._cache_stats = cache_stats
        self.message_label = named(ElidedLabel(), "statusMessage", "Status")
        self.warning_label = named(ElidedLabel(), "warningLabel", "Warning")
        self.warning_label.hide()
        self.cache_label = named(ElidedLabel(), "cacheStatsLabel", "Where plays came from")
        bar.addWidget(self.message_label, 3)
        bar.addPermanentWidget(self.warning_label, 2)
        bar.addPermanentWidget(self.cache_label, 2)
        self._pending = False
        self._poll = QTimer(self)
        self._poll.setInterval(STATS_POLL_MS)
        self._poll.timeout.connect(self._on_poll_timeout)

    def start(self) -> None:
        self._poll.start()

    def stop(self) -> None:
        self._poll.stop()

    def show_message(self, message: str) -> None:
        self.message_label.setText(message)

    def show_warning(self, message: str) -> None:
        """A lasting condition (e.g. no disk cache), kept in view until the app restarts."""
        self.warning_label.setText(message)
        self.warning_label.show()

    def _on_poll_timeout(self) -> None:
        # The figures come from the cache's SQLite index, which a download may be writing: read it off this thread.
        if not self._pending:
            self._pending = True
            run_task(self._cache_stats, self._on_stats_loaded, self._on_stats_failed)

    def _on_stats_loaded(self, stats: CacheStats | None) -> None:
        self._pending = False
        if stats is not None and stats.plays:
            self.cache_label.setText(f"Plays from RAM {stats.plays_from_ram} · disk {stats.plays_from_disk} · "
                                     f"network {stats.plays_from_network} · hit ratio {stats.hit_ratio:.0%}")

    def _on_stats_failed(self, message: str) -> None:
        self._pending = False
        self.show_message(f"Cache statistics unavailable: {message}")
