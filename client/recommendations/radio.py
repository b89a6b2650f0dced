"""Track radio: a seed track's neighbours (``GET /tracks/{id}/radio``) fill the queue, and more are fetched before it
runs out, never one already played or queued in this radio.

Widget-less; it never waits on the network on the UI thread and never refills a context that is not its own.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from client import catalog
from client.api import ApiClient
from client.catalog import Track
from client.listening import PlayContext
from client.playback import PlaybackController
from client.tasks import run_task

BATCH = 25
REFILL_BELOW = 5  # radio tracks still to come when more are fetched
EXCLUDE_AT_MOST = 200  # the most recent radio tracks named to the server as not wanted again (bounds the URL)


class TrackRadio(QObject):
    """Plays a track's radio on ``playback``.

    Signals:
        started(object): the seed Track, once its radio plays.
        failed(str): a message fit for the user.
    """

    started = Signal(object)
    failed = Signal(str)

    def __init__(self, api: ApiClient, playback: PlaybackController) -> None:
        super().__init__()
        self._api = api
        self._playback = playback
        self._context: PlayContext | None = None
        self._seen: list[int] = []  # every track this radio queued, in order
        self._last_artist: int | None = None  # of the last track it queued
        self._fetching = False
        self._exhausted = False
        playback.queue_changed.connect(self._on_playback_queue_changed)

    @property
    def on_air(self) -> bool:
        """Whether the queue's context is this radio's."""
        return self._context is not None and self._playback.context == self._context

    @property
    def fetching(self) -> bool:
        """Whether neighbours asked of the server are on their way."""
        return self._fetching

    def start(self, seed: Track) -> None:
        """Play ``seed``, then its neighbours: fetched off the UI thread."""
        context = PlayContext("radio", str(seed.id))
        self._context, self._seen, self._exhausted, self._fetching = context, [seed.id], False, True
        self._last_artist = seed.artist_id
        api = self._api
        run_task(lambda: _neighbours(api, seed.id, [seed.id]),
                 lambda tracks: self._on_first(context, seed, tracks), self._on_failed)

    def _on_first(self, context: PlayContext, seed: Track, tracks: list[Track]) -> None:
        self._fetching = False
        if context != self._context:
            return  # another radio was asked for meanwhile
        fresh = self._fresh(tracks)
        self._exhausted = not fresh
        self._playback.play_context([seed, *fresh], 0, context)
        self.started.emit(seed)

    def _on_playback_queue_changed(self) -> None:
        if not self.on_air or self._fetching or self._exhausted or self._context is None:
            return
        still_to_come = sum(1 for entry in self._playback.queue.upcoming() if not entry.queued)
        if still_to_come >= REFILL_BELOW:
            return
        self._fetching = True
        context, api, exclude = self._context, self._api, self._seen[-EXCLUDE_AT_MOST:]
        seed = int(context.id or 0)
        run_task(lambda: _neighbours(api, seed, exclude), lambda tracks: self._on_more(context, tracks),
                 self._on_failed)

    def _on_more(self, context: PlayContext, tracks: list[Track]) -> None:
        self._fetching = False
        if context != self._context or not self.on_air:
            return
        fresh = self._fresh(tracks)
        if not fresh:
            self._exhausted = True  # the catalog has no more neighbours of the seed: the radio ends with them
            return
        self._playback.extend_context(fresh)

    def _fresh(self, tracks: list[Track]) -> list[Track]:
        """The tracks this radio has not queued yet (each once), remembered as queued. The server never sends one
        artist twice in a row; where a batch joins the last one it is kept so by starting with another artist."""
        seen = set(self._seen)
        fresh = []
        for track in tracks:
            if track.id not in seen:
                seen.add(track.id)
                fresh.append(track)
        other = next((i for i, track in enumerate(fresh) if track.artist_id != self._last_artist), 0)
        fresh = fresh[other:other + 1] + fresh[:other] + fresh[other + 1:]
        if fresh:
            self._seen += [track.id for track in fresh]
            self._last_artist = fresh[-1].artist_id
        return fresh

    def _on_failed(self, message: str) -> None:
        self._fetching = False
        self.failed.emit(f"Track radio: {message}")


def _neighbours(api: ApiClient, seed_id: int, exclude: list[int]) -> list[Track]:
    answer = api.radio(seed_id, limit=BATCH, exclude=exclude)
    return [catalog.track(raw) for raw in answer.get("tracks", [])]
