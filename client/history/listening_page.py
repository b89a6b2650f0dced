"""Your listening: pictures of the user's history from the server (``GET /me/listening``): hours heard per week,
and the artists and tracks heard most this month, as bar charts.

Drawn with pyqtgraph (Qt-native, vector, crisp at any scale, and light: it draws with QPainter on a
QGraphicsView, where matplotlib would bring a second rendering stack and ~40 MB more). It is imported when the
page is first shown, so a start that never opens the page pays nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from client import catalog
from client.api import ApiClient
from client.catalog import Track
from client.tasks import run_task
from client.widgets.controls import named
from client.widgets.words import count

WEEKS = 12
DAYS = 30
_MS_PER_HOUR = 3_600_000
_MS_PER_MINUTE = 60_000
_NAME_CHARS = 28


@dataclass(frozen=True, slots=True)
class Heard:
    """One bar: what was heard (an artist's name, a track's title) and how much."""

    name: str
    ms_played: int
    plays: int


@dataclass(frozen=True, slots=True)
class ListeningSummary:
    weeks: tuple[tuple[date, int], ...]  # each week's Monday and the ms heard in it, oldest first
    top_artists: tuple[Heard, ...]
    top_tracks: tuple[tuple[Track, Heard], ...]

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ListeningSummary:
        top_tracks = []
        for top in raw["top_tracks"]:
            track = catalog.track(top["track"])
            top_tracks.append((track, Heard(track.title, int(top["ms_played"]), int(top["plays"]))))
        return cls(tuple((date.fromisoformat(week["week_of"]), int(week["ms_played"])) for week in raw["weeks"]),
                   tuple(Heard(str(a["name"]), int(a["ms_played"]), int(a["plays"])) for a in raw["top_artists"]),
                   tuple(top_tracks))


class ListeningPage(QWidget):
    """Three charts, refreshed each time the page is shown; ``summary`` is what they show."""

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("listeningPage")
        self._api = api
        self.summary: ListeningSummary | None = None
        self.status = named(QLabel("Loading your listening…"), "listeningStatus", "Your listening status")
        self.status.setWordWrap(True)
        self._charts = QGridLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<h2>Your listening</h2>"))
        layout.addWidget(self.status)
        layout.addLayout(self._charts, 1)
        # pyqtgraph.PlotWidget each, once first drawn (pyqtgraph ships no type information).
        self.weeks_chart: Any = None
        self.artists_chart: Any = None
        self.tracks_chart: Any = None

    def showEvent(self, event: Any) -> None:
        self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        """Read the summary off the UI thread, then draw it."""
        api = self._api
        run_task(lambda: ListeningSummary.from_json(api.listening(WEEKS, DAYS)), self._on_summary_read,
                 self._on_summary_failed)

    def bars(self, chart: Any) -> list[float]:
        """The lengths of a chart's bars, in the order drawn (hours for weeks, minutes for the top lists)."""
        item = chart.getPlotItem().items[0]
        return [float(value) for value in item.opts["height" if chart is self.weeks_chart else "width"]]

    def _on_summary_failed(self, message: str) -> None:
        self._show_charts(False)
        self.status.setText(f"Your listening cannot be shown right now: {message}. It needs the server; "
                            "it is read again when you come back to this page.")

    def _on_summary_read(self, summary: ListeningSummary) -> None:
        self.summary = summary
        heard_ms = sum(ms for _, ms in summary.weeks)
        if not heard_ms:
            self.status.setText(f"Nothing heard in the last {len(summary.weeks)} weeks yet: play something, and "
                                "your weeks, artists and tracks show here.")
            self._show_charts(False)
            return
        self.status.setText(f"{_hours(heard_ms)} heard in the last {len(summary.weeks)} weeks; "
                            f"most heard in the last {DAYS} days below.")
        self._draw(summary)
        self._show_charts(True)

    def _show_charts(self, shown: bool) -> None:
        for chart in (self.weeks_chart, self.artists_chart, self.tracks_chart):
            if chart is not None:
                chart.setVisible(shown)

    def _draw(self, summary: ListeningSummary) -> None:
        import pyqtgraph

        if self.weeks_chart is None:
            self.weeks_chart = self._chart(pyqtgraph, "weeksChart", "Hours heard per week")
            self.artists_chart = self._chart(pyqtgraph, "topArtistsChart", f"Top artists, last {DAYS} days")
            self.tracks_chart = self._chart(pyqtgraph, "topTracksChart", f"Top tracks, last {DAYS} days")
            self._charts.addWidget(self.weeks_chart, 0, 0, 1, 2)
            self._charts.addWidget(self.artists_chart, 1, 0)
            self._charts.addWidget(self.tracks_chart, 1, 1)
        palette = self.palette()  # each time: the theme may have changed since the last draw
        for chart in (self.weeks_chart, self.artists_chart, self.tracks_chart):
            chart.setBackground(palette.color(QPalette.ColorRole.Base))
            chart.getPlotItem().titleLabel.setText(chart.accessibleName(),
                                                   color=palette.color(QPalette.ColorRole.Text).name())
        brush = palette.color(QPalette.ColorRole.Highlight)
        hours = [ms / _MS_PER_HOUR for _, ms in summary.weeks]
        self.weeks_chart.clear()
        self.weeks_chart.addItem(pyqtgraph.BarGraphItem(x=list(range(len(hours))), height=hours, width=0.7,
                                                        brush=brush, pen=None))
        self.weeks_chart.getAxis("bottom").setTicks([[(n, week.strftime("%d %b"))
                                                      for n, (week, _) in enumerate(summary.weeks)]])
        self._draw_top(pyqtgraph, self.artists_chart, list(summary.top_artists), brush)
        self._draw_top(pyqtgraph, self.tracks_chart, [heard for _, heard in summary.top_tracks], brush)

    def _chart(self, pyqtgraph: Any, object_name: str, title: str) -> Any:
        chart = named(pyqtgraph.PlotWidget(), object_name, title)
        chart.setTitle(title)
        chart.setMenuEnabled(False)
        chart.setMouseEnabled(x=False, y=False)
        chart.hideButtons()
        chart.setMinimumHeight(180)
        return chart

    @staticmethod
    def _draw_top(pyqtgraph: Any, chart: Any, heard: list[Heard], brush: Any) -> None:
        """Horizontal bars in minutes, the most heard on top, each named on the left axis."""
        chart.clear()
        rows = list(range(len(heard)))[::-1]
        chart.addItem(pyqtgraph.BarGraphItem(x0=0, y=rows, height=0.6, width=[h.ms_played / _MS_PER_MINUTE
                                                                             for h in heard], brush=brush, pen=None))
        chart.getAxis("left").setTicks([[(row, _short(h.name)) for row, h in zip(rows, heard, strict=True)]])
        chart.setLabel("bottom", "minutes")


def _hours(ms: int) -> str:
    hours = ms / _MS_PER_HOUR
    if hours < 1:
        return count(round(ms / _MS_PER_MINUTE), "minute")
    return f"{hours:.1f} hours"


def _short(name: str) -> str:
    return name if len(name) <= _NAME_CHARS else name[:_NAME_CHARS - 1] + "…"
