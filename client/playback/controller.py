"""The playback controller: the play queue (what plays next) driving one engine fed by the content store.

Engine events arrive on engine threads; they reach Qt only through this object's queued signals. The UI thread
never waits for the network: manifests are fetched on the thread pool before the engine hears of a track.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from cache import CacheStats, ContentStore, DecryptingSource, FileKey, FileManifest, PrefetchItem
from client import catalog
from client.api import ApiClient, ServerUnreachable
from client.catalog import Track
from client.listening import OTHER, QUEUE, PlayContext
from client.playback.metadata_ahead import Known, fetch_known
from client.playback.plays import PlayTracker
from client.playback.queue import Entry, PlayQueue, Repeat
from client.playback.sequencing import UNKNOWN, GainMode, Loudness, Planned, plan
from client.tasks import run_task
from player import (
    Engine,
    PlaybackError,
    QueueFinished,
    QueueItem,
    Reconnected,
    Reconnecting,
    Sink,
    Source,
    StateChanged,
    TrackEnded,
    TrackStarted,
)

log = logging.getLogger(__name__)

STREAMING_QUALITY = "high"
LocalManifest = Callable[[int], FileManifest]
RESTORED_TRACKS = 200
LOOKAHEAD = 4  # upcoming entries the engine holds: enough to decode ahead and to prefetch the next three
QUEUE_AHEAD = 100  # upcoming entries whose manifests and licences are fetched ahead of the click


class PlaybackController(QObject):
    """Plays a PlayQueue through one engine.

    Signals:
        track_changed(object): the track now heard (a catalog.Track).
        state_changed(str): "playing", "paused" or "stopped".
        queue_changed(): the upcoming entries changed (edit, shuffle, repeat, or a track moved on).
        error_occurred(str): a message fit to show to the user.
        notice(str): a passing status fit for the status bar ("Reconnecting…", then what happened).
        play_ended(object): a client.listening.PlayEnded, once per play (run out, skipped, or left at quit).
    """

    track_changed = Signal(object)
    state_changed = Signal(str)
    queue_changed = Signal()
    error_occurred = Signal(str)
    notice = Signal(str)
    play_ended = Signal(object)
    _engine_event = Signal(object)

    def __init__(self, api: ApiClient, sink: Sink, store: ContentStore | None = None,
                 quality: str = STREAMING_QUALITY, local_manifest: LocalManifest | None = None) -> None:
        """Without a ``store`` (no keystore), tracks stream from the network and nothing reaches the disk.

        ``local_manifest(track_id)`` finds a downloaded or cached file when the server cannot be asked
        (offline mode, or the network is gone); it raises with a reason when the track cannot play offline.
        """
        super().__init__()
        self._api = api
        self._store = store
        self.local_manifest = local_manifest
        self.offline: Callable[[], bool] = lambda: False  # offline mode: ask only local_manifest
        self._quality = quality
        self._pending_seek_s: float | None = None
        self._gain_mode: GainMode = "auto"
        self.queue = PlayQueue()
        self._manifests: dict[int, FileManifest] = {}
        self._albums: dict[int, Loudness] = {}  # by track id: its album's figures, from the same manifest
        self._waveforms: dict[int, bytes] = {}  # by track id: its seek-bar waveform, from the same manifest
        self._keys: dict[int, FileKey] = {}  # by file id, licences fetched ahead when there is no store to keep them
        self._flat: list[Entry] = []  # what the engine holds, by engine index
        self._plans: list[Planned] = []  # how each of them plays, by engine index
        self.context = OTHER  # where the queue's context came from (an album, a playlist, radio, ...)
        self._plays = PlayTracker()
        self._engine_event.connect(self._on_engine_event)
        self.engine = Engine(sink, listener=self._engine_event.emit)

    # -- what the UI asks ---------------------------------------------------------------------------

    @property
    def quality(self) -> str:
        return self._quality

    @quality.setter
    def quality(self, quality: str) -> None:
        """Tracks lined up from now on play at ``quality`` (the one playing finishes as it is)."""
        if quality != self._quality:
            self._quality = quality
            self.forget_ahead()

    def fetch_ahead(self, tracks: Sequence[Track]) -> None:
        """Learn, off the UI thread and in batches, the manifests and licences of `tracks` the user may play next
        (the queue, visible rows, top search results), so a click on one of them asks only for its audio."""
        missing = [t.id for t in tracks if t.id not in self._manifests]
        if not missing or self.offline():
            return
        quality = self._quality
        run_task(lambda: fetch_known(self._api, missing, quality, self._store),
                 lambda known: self._learn(known, quality),
                 lambda message: log.info("metadata ahead not fetched: %s", message))

    def known_ahead(self, track_id: int) -> bool:
        """The track's manifest at the streaming quality is known: a play of it asks the network for audio alone."""
        return track_id in self._manifests

    def waveform(self, track_id: int) -> bytes | None:
        """The track's waveform for the seek bar, when its manifest came with one."""
        return self._waveforms.get(track_id)

    def forget_ahead(self) -> None:
        """Forget every manifest and licence fetched ahead (the quality changed, or the user logs out)."""
        self._manifests.clear()
        self._albums.clear()
        self._waveforms.clear()
        self._keys.clear()

    @property
    def gain_mode(self) -> GainMode:
        return self._gain_mode

    @gain_mode.setter
    def gain_mode(self, mode: GainMode) -> None:
        """Which loudness tracks lined up from now on are normalised by (see ``sequencing.plan``); the track
        playing, and any track of its album after it in order, keep theirs, so the change never steps a join."""
        if mode != self._gain_mode:
            self._gain_mode = mode
            self._queue_edited()

    @property
    def current_track(self) -> Track | None:
        return self.queue.current.track if self.queue.current is not None else None

    def play_context(self, tracks: Sequence[Track], start_index: int = 0, context: PlayContext = OTHER) -> None:
        """Play ``tracks`` (an album, a playlist, search results: ``context``) from ``start_index`` on."""
        self._leave(skipped=True)
        self.context = context
        entry = self.queue.play_context(list(tracks), start_index)
        self._jump_to(entry)

    def extend_context(self, tracks: Sequence[Track]) -> None:
        """Add ``tracks`` at the end of the context (radio's next neighbours), after the user's queue."""
        self.queue.extend_context(list(tracks))
        self._queue_edited()

    def restore(self, track_ids: Sequence[int], position_s: float) -> None:
        """Bring back a queue from an earlier run, paused at ``position_s`` of its first track."""
        api = self._api

        def restored(tracks: list[Track]) -> None:
            if tracks and self.queue.current is None:
                self.queue.play_context(tracks, 0)
                self._pending_seek_s = position_s
                self.track_changed.emit(tracks[0])
                self.queue_changed.emit()

        run_task(lambda: [catalog.track(api.track(track_id)) for track_id in track_ids[:RESTORED_TRACKS]], restored,
                 self.error_occurred.emit)

    def next(self) -> None:
        self._leave(skipped=True)
        entry = self.queue.next_explicit()
        if entry is None:
            self.engine.stop()
        else:
            self._jump_to(entry)

    def previous(self) -> None:
        """Restart the track when more than a few seconds in, else go back one."""
        if self.engine.position().seconds > 3.0 or (entry := self.queue.previous()) is None:
            self.engine.seek(0.0)
        else:
            self._leave(skipped=True)
            self._jump_to(entry)

    def add_next(self, tracks: Sequence[Track]) -> None:
        self.queue.add_next(list(tracks))
        self._queue_edited()

    def add_to_end(self, tracks: Sequence[Track]) -> None:
        self.queue.add_to_end(list(tracks))
        self._queue_edited()

    def remove(self, entry_ids: Sequence[int]) -> None:
        self.queue.remove(entry_ids)
        self._queue_edited()

    def move(self, entry_id: int, to_position: int) -> None:
        self.queue.move(entry_id, to_position)
        self._queue_edited()

    def clear_queue(self) -> None:
        self.queue.clear()
        self._queue_edited()

    def set_shuffle(self, on: bool) -> None:
        self.queue.set_shuffle(on)
        self._queue_edited()

    def set_repeat(self, mode: Repeat) -> None:
        self.queue.repeat = mode
        self._queue_edited()

    def toggle_pause(self) -> None:
        state = self.engine.state
        if state == "playing":
            self.engine.pause()
        elif state == "paused":
            self.engine.resume()
        elif self.queue.current is not None:
            self._jump_to(self.queue.current)

    def seek(self, seconds: float) -> None:
        self.engine.seek(seconds)

    def position_seconds(self) -> float:
        return self.engine.position().seconds

    def cache_stats(self) -> CacheStats | None:
        return self._store.stats() if self._store is not None else None

    def close(self) -> None:
        self.forget_ahead()
        self._leave(skipped=False)
        self.engine.close()
        if self._store is not None:
            self._store.close()

    # -- feeding the engine -------------------------------------------------------------------------

    def _leave(self, skipped: bool) -> None:
        ended = self._plays.left(self.engine.position(), skipped)
        if ended is not None:
            self.play_ended.emit(ended)

    def _jump_to(self, entry: Entry) -> None:
        window = [entry, *self.queue.upcoming()[:LOOKAHEAD]]
        self._with_manifests(window, lambda: self._start(window), opening=entry.track.id)

    def _start(self, window: list[Entry]) -> None:
        if self.queue.current is None or window[0].entry_id != self.queue.current.entry_id:
            return  # the user chose something else while the manifests were on their way
        self._flat = window
        self._plans = plan(window, self._albums, self._gain_mode, self.queue.shuffle)
        self.engine.set_queue([self._queue_item(e, p) for e, p in zip(window, self._plans, strict=True)], 0)
        self.engine.play(start_s=self._pending_seek_s or 0.0)
        self._pending_seek_s = None
        self.queue_changed.emit()
        self._plan_prefetch()

    def _queue_edited(self) -> None:
        self.queue_changed.emit()
        if self.engine.state == "stopped" or not self._flat:
            return
        window = self.queue.upcoming()[:LOOKAHEAD]
        self._with_manifests(window, self._replace_upcoming)

    def _replace_upcoming(self) -> None:
        playing = self.engine.position().index
        window = self.queue.upcoming()[:LOOKAHEAD]
        if any(e.track.id not in self._manifests for e in window):
            self._with_manifests(window, self._replace_upcoming)
            return
        before = (self._flat[playing], self._plans[playing]) if playing < len(self._plans) else None
        plans = plan(window, self._albums, self._gain_mode, self.queue.shuffle, before)
        if self.engine.replace_upcoming(playing, [self._queue_item(e, p) for e, p in zip(window, plans, strict=True)]):
            self._flat = self._flat[: playing + 1] + window
            self._plans = self._plans[: playing + 1] + plans
            self._plan_prefetch()

    def _with_manifests(self, entries: list[Entry], then: Any, opening: int | None = None) -> None:
        """Call ``then()`` on this thread once every entry's manifest is known (fetched off the UI thread, with the
        opening audio of track `opening` in the same request when it is among them)."""
        missing = list({e.track.id: e.track for e in entries if e.track.id not in self._manifests}.values())
        if not missing:
            then()
            return

        def fetched(known: dict[int, Known]) -> None:
            self._learn(known, quality)
            then()

        quality = self._quality
        run_task(lambda: self._fetch_now(missing, quality, opening), fetched, self.error_occurred.emit)

    def _fetch_now(self, tracks: list[Track], quality: str, opening: int | None) -> dict[int, Known]:
        """What a play needs now, in one request: each track's file at `quality`, its album's loudness, its
        licence and the opening audio of track `opening` (offline, from the files kept on this device, which carry
        no album figures)."""
        local = self.local_manifest
        if local is not None and self.offline():
            return {t.id: Known(local(t.id), UNKNOWN, None) for t in tracks}
        for track in tracks:
            self._api.release_jitter.wait_before_track(track.id)
        try:
            known = fetch_known(self._api, [t.id for t in tracks], quality, self._store, opening)
        except ServerUnreachable:
            if local is None:
                raise
            return {t.id: Known(local(t.id), UNKNOWN, None) for t in tracks}
        absent = next((t for t in tracks if t.id not in known), None)
        if absent is not None:
            raise LookupError(f"“{absent.title}” has no {quality} quality file")
        return known

    def _learn(self, known: dict[int, Known], quality: str) -> None:
        if quality != self._quality:
            return  # fetched for the quality before the last change
        for track_id, facts in known.items():
            self._manifests[track_id] = facts.manifest
            self._albums[track_id] = facts.album
            if facts.waveform is not None:
                self._waveforms[track_id] = facts.waveform
            if facts.key is not None and self._store is None:
                self._keys[facts.manifest.file_id] = facts.key

    def _queue_item(self, entry: Entry, planned: Planned) -> QueueItem:
        store, api, track, keys = self._store, self._api, entry.track, self._keys
        manifest = self._manifests[track.id]

        def open_source() -> Source:
            if store is not None:
                return store.open(manifest)
            key = keys.get(manifest.file_id)
            return DecryptingSource(manifest, key if key is not None else api.licence(manifest.file_id), api)

        return QueueItem(key=str(entry.entry_id), open_source=open_source, frames=manifest.frames,
                         loudness_lufs=planned.loudness.lufs, peak_dbfs=planned.loudness.peak_dbfs,
                         playable_offline=lambda: store is not None and store.playable_offline(manifest),
                         joins_previous=planned.joins_previous)

    def _title_of(self, key: str) -> str:
        entry = next((e for e in reversed(self._flat) if str(e.entry_id) == key), None)
        return entry.track.title if entry is not None else "the track"

    def _plan_prefetch(self) -> None:
        if self._store is not None:
            upcoming = [self._manifests[e.track.id] for e in self.queue.upcoming()[:LOOKAHEAD]
                        if e.track.id in self._manifests]
            self._store.plan_prefetch([PrefetchItem(m, m.duration_s) for m in upcoming])
        self.fetch_ahead([e.track for e in self.queue.upcoming()[:QUEUE_AHEAD]])

    def _on_engine_event(self, event: object) -> None:
        if isinstance(event, TrackStarted):
            # By key, not index: the engine's items past the one heard may have been swapped meanwhile.
            entry = next((e for e in reversed(self._flat) if str(e.entry_id) == event.key), None)
            if entry is not None:
                self.queue.advance_to(entry)
                if (unfinished := self._plays.started(entry, QUEUE if entry.queued else self.context)) is not None:
                    self.play_ended.emit(unfinished)
                self.track_changed.emit(entry.track)
                self._queue_edited()
        elif isinstance(event, TrackEnded):
            if (ended := self._plays.ran_out(event.key)) is not None:
                self.play_ended.emit(ended)
        elif isinstance(event, StateChanged):
            self.state_changed.emit(event.state)
        elif isinstance(event, Reconnecting):
            self.notice.emit(f"Reconnecting… “{self._title_of(event.key)}” plays on from what is buffered")
        elif isinstance(event, Reconnected):
            self.notice.emit(f"Reconnected: “{self._title_of(event.key)}” continues")
        elif isinstance(event, PlaybackError):
            self.error_occurred.emit(f"Could not play: {event.message}")
        elif isinstance(event, QueueFinished):
            log.info("queue finished")
