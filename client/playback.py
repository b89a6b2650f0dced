"""The playback controller: turns the user's "play these tracks" into an engine queue fed by the server.

Engine events arrive on engine threads; they reach Qt only through this object's queued signals.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from cache import DecryptingSource, FileManifest
from client.api import ApiClient
from client.tasks import run_task
from player import (
    Engine,
    PlaybackError,
    QueueFinished,
    Sink,
    StateChanged,
    TrackStarted,
    QueueItem,
)

log = logging.getLogger(__name__)

STREAMING_QUALITY = "high"


class PlaybackController(QObject):
    """Plays lists of tracks through one engine.

    Signals:
        track_changed(dict): the track now heard (the server's track record).
        state_changed(str): "playing", "paused" or "stopped".
        error_occurred(str): a message fit to show to the user.
    """

    track_changed = Signal(dict)
    state_changed = Signal(str)
    error_occurred = Signal(str)
    _engine_event = Signal(object)

    def __init__(self, api: ApiClient, sink: Sink, quality: str = STREAMING_QUALITY) -> None:
        super().__init__()
        self._api = api
        self._quality = quality
        self._tracks: list[dict[str, Any]] = []
        self._engine_event.connect(self._on_engine_event)
        self.engine = Engine(sink, listener=self._engine_event.emit)

    @property
    def current_track(self) -> dict[str, Any] | None:
        index = self.engine.position().index
        return self._tracks[index] if 0 <= index < len(self._tracks) else None

    def play_tracks(self, tracks: Sequence[dict[str, Any]], start_index: int = 0) -> None:
        """Play ``tracks`` from ``start_index`` on; manifests are fetched off the UI thread."""
        tracks = list(tracks)
        run_task(lambda: [self._queue_item(track) for track in tracks],
                 lambda items: self._start(tracks, items, start_index),
                 self.error_occurred.emit)

    def toggle_pause(self) -> None:
        state = self.engine.state
        if state == "playing":
            self.engine.pause()
        elif state == "paused":
            self.engine.resume()

    def position_seconds(self) -> float:
        return self.engine.position().seconds

    def close(self) -> None:
        self.engine.close()

    def _start(self, tracks: list[dict[str, Any]], items: list[QueueItem], start_index: int) -> None:
        self._tracks = tracks
        self.engine.set_queue(items, start_index)
        self.engine.play()

    def _queue_item(self, track: dict[str, Any]) -> QueueItem:
        manifest_json = self._api.manifest(int(track["id"]))
        files = {f["quality"]: f for f in manifest_json["files"]}
        if self._quality not in files:
            raise LookupError(f"“{track['title']}” has no {self._quality} quality file")
        manifest = FileManifest.from_json(files[self._quality])
        api = self._api

        def open_source() -> DecryptingSource:
            return DecryptingSource(manifest, api.licence(manifest.file_id), api)

        return QueueItem(
            key=str(track["id"]), open_source=open_source, frames=manifest.frames,
            loudness_lufs=manifest_json.get("loudness_lufs"), peak_dbfs=manifest_json.get("peak_dbfs"),
        )

    def _on_engine_event(self, event: object) -> None:
        if isinstance(event, TrackStarted):
            if 0 <= event.index < len(self._tracks):
                self.track_changed.emit(self._tracks[event.index])
        elif isinstance(event, StateChanged):
            self.state_changed.emit(event.state)
        elif isinstance(event, PlaybackError):
            self.error_occurred.emit(f"Could not play track {event.index + 1}: {event.message}")
        elif isinstance(event, QueueFinished):
            log.info("queue finished")
