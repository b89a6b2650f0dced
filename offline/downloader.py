"""The download manager: pinned albums and playlists fetched into the encrypted disk cache, never evicted.

Resumes by HTTP Range (only missing chunks), stores each chunk as it arrives, retries with full-jitter backoff,
waits out 429/503 and lost networks, and fails at once what the server refuses.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from cache import ContentStore, FileManifest
from offline.connectivity import Connectivity, ConnectivityState
from offline.disk_space import RESERVE_BYTES, disk_full_error
from offline.download_queue import DownloadQueue, QueuedItem
from offline.errors import DiskFullError, RangeRefused, ServerBusy
from offline.rate import RateMeter
from offline.records import (
    Clock,
    DownloadsSnapshot,
    ItemStatus,
    PinKey,
    Progress,
    TrackRef,
)
from offline.retry import Backoff
from offline.source import DownloadSource
from offline.summary import pin_status, still_progress, total_progress
from offline.transfer import (
    ActiveDownload,
    DiskBudget,
    Stop,
    Stopped,
    Transfer,
    fetch_missing_chunks,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RENEW_BEFORE_S = 7 * 86400.0
_PAUSED_FLAG = "paused"
_IDLE_POLL_S = 1.0


class Downloader:
    """Runs the persistent download queue on ``concurrency`` worker threads. Call close() when done.

    Subscribers are called (on any thread) after every change a view would show; read ``snapshot()`` then.
    ``request_bytes`` caps one Range request (None: each run of missing chunks in one request);
    ``clock`` is Unix time for licence expiry (injectable for tests).
    """

    def __init__(self, queue_path: Path, store: ContentStore, source: DownloadSource, connectivity: Connectivity,
                 disk_dir: Path, *, concurrency: int = 2, max_attempts: int = MAX_ATTEMPTS,
                 backoff: Backoff | None = None, request_bytes: int | None = None,
                 reserve_bytes: int = RESERVE_BYTES, clock: Clock = time.time) -> None:
        if concurrency < 1:
            raise ValueError(f"the download concurrency must be at least 1 (got {concurrency})")
        self.queue = DownloadQueue(queue_path)
        self._store = store
        self._source = source
        self._connectivity = connectivity
        self._disk_dir = disk_dir
        self._max_attempts = max_attempts
        self._backoff = backoff or Backoff(base_s=1.0, cap_s=60.0)
        self._request_bytes = request_bytes
        self._reserve_bytes = reserve_bytes
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()  # not the condition: progress must not wait for its waiters
        self._cv = threading.Condition()
        self._active: dict[int, ActiveDownload] = {}
        self._closing = False
        self._renewer: threading.Thread | None = None
        connectivity.subscribe(self._on_connectivity_changed)
        self._workers = [threading.Thread(target=self._run_worker, name=f"legato-download-{n}", daemon=True)
                         for n in range(concurrency)]
        for worker in self._workers:
            worker.start()

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change (from worker threads too); it must not block."""
        with self._listeners_lock:
            self._listeners.append(listener)

    # -- pins --------------------------------------------------------------------------------------------

    def pin(self, key: PinKey, title: str, tracks: Sequence[TrackRef]) -> None:
        """Download exactly ``tracks`` for this album or playlist; call again when a playlist changes."""
        self._stop_released(self.queue.set_pin(key, title, tracks, self._unpin_files))

    def unpin(self, key: PinKey) -> None:
        """Stop keeping this album or playlist; tracks no other pin holds are released to the ordinary cache."""
        self._stop_released(self.queue.remove_pin(key, self._unpin_files))

    # -- the user's commands -----------------------------------------------------------------------------

    def pause(self, track_id: int) -> None:
        with self._cv:
            self._stop_active(track_id, "pause")
            item = self.queue.item(track_id)
            if item is not None and item.state != "done":
                self.queue.set_state(track_id, "paused", bytes_done=self._done_now(item))
        self._changed()

    def resume(self, track_id: int) -> None:
        """Resume a paused download, or retry a failed one."""
        item = self.queue.item(track_id)
        if item is not None and item.state in ("paused", "failed"):
            self.queue.set_state(track_id, "queued")
        self._changed()

    def cancel(self, track_id: int) -> None:
        """Remove the track from every pin and release what was downloaded of it."""
        self._stop_released(self.queue.remove_track(track_id, self._unpin_files))

    def pause_all(self) -> None:
        with self._cv:
            self.queue.set_flag(_PAUSED_FLAG, True)
            for active in self._active.values():
                active.request_stop("requeue", keep_earlier=True)
        self._changed()

    def resume_all(self) -> None:
        """Clear the global pause and resume every paused or failed download."""
        self.queue.set_flag(_PAUSED_FLAG, False)
        self.queue.set_states(("paused", "failed"), "queued")
        self._changed()

    @property
    def paused(self) -> bool:
        return self.queue.flag(_PAUSED_FLAG)

    # -- what the views read ---------------------------------------------------------------------------

    def snapshot(self) -> DownloadsSnapshot:
        items = self.queue.items()
        with self._cv:
            active = {track_id: self._progress_of(a) for track_id, a in self._active.items()}
            notes = {track_id: a.note for track_id, a in self._active.items()}
            waiting = {track_id for track_id, a in self._active.items() if a.waiting}
        statuses = []
        for item in items:
            progress = active.get(item.track_id) or still_progress(item)
            state = "waiting" if item.track_id in waiting else item.state
            statuses.append(ItemStatus(item.track_id, item.title, state, progress,
                                       notes.get(item.track_id) or item.error))
        by_track = {status.track_id: status for status in statuses}
        pins = tuple(pin_status(pin.key, pin.title, [by_track[t] for t in pin.track_ids if t in by_track],
                                 self.paused) for pin in self.queue.pins())
        return DownloadsSnapshot(tuple(statuses), pins, total_progress(statuses), self.paused)

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until nothing is downloading or queued (True), or the timeout passed (False)."""
        deadline = time.monotonic() + timeout_s
        with self._cv:
            while self._active or (not self.paused and any(i.state == "queued" for i in self.queue.items())):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cv.wait(min(remaining, _IDLE_POLL_S))
        return True

    # -- licences ----------------------------------------------------------------------------------------

    def renew_licences(self) -> int:
        """Renew the offline licences of downloaded tracks that expire soon; how many were renewed."""
        renewed = 0
        for item in self.queue.items():
            if item.state != "done" or item.manifest is None or not self._licence_due(item.manifest.file_id):
                continue
            try:
                self._fetch_licence(item.manifest)
            except OSError as exc:
                log.info("could not renew offline licences now: %s", exc)
                self._connectivity.report_failure()
                break
            renewed += 1
        if renewed:
            self._changed()
        return renewed

    def close(self) -> None:
        with self._cv:
            self._closing = True
            for active in self._active.values():
                active.request_stop("close")
            self._cv.notify_all()
            renewer = self._renewer
        for worker in self._workers:
            worker.join()
        if renewer is not None:
            renewer.join()
        self.queue.close()

    # -- workers -----------------------------------------------------------------------------------------

    def _run_worker(self) -> None:
        while True:
            with self._cv:
                item = None
                while item is None:
                    if self._closing:
                        return
                    if not self.paused and self._connectivity.online:
                        item = self.queue.claim_next(set(self._active))
                    if item is None:
                        self._cv.wait(_IDLE_POLL_S)
                active = self._active[item.track_id] = ActiveDownload(item.track_id, RateMeter(time.monotonic))
            self._changed()
            try:
                self._download(item, active)
            finally:
                with self._cv:
                    del self._active[item.track_id]
                    self._cv.notify_all()
                self._changed()

    def _download(self, item: QueuedItem, active: ActiveDownload) -> None:
        try:
            self._download_with_retries(item, active)
        except Stopped:  # also during a wait between attempts, which runs inside an exception handler
            if active.stop == "cancel" and active.file_id is not None:
                # A cancel that raced this worker's pin must not leave the file pinned for ever.
                self._store.unpin(active.file_id)
            self._finish(active, "queued")

    def _download_with_retries(self, item: QueuedItem, active: ActiveDownload) -> None:
        attempt = 0
        while True:
            try:
                self._transfer(item, active)
                self._finish(active, "done")
                return
            except DiskFullError as exc:
                log.warning("download of track %d stopped: %s", item.track_id, exc)
                self._finish(active, "failed", str(exc))
                return
            except ServerBusy as exc:
                delay = self._backoff.after_busy_s(attempt, exc.retry_after_s)
                attempt += 1
                self._pause_for(active, delay, f"the server is busy; retrying in {delay:.0f} s")
            except RangeRefused as exc:
                if exc.permanent:
                    self._finish(active, "failed", f"the server refused to send '{item.title}': {exc}")
                    return
                attempt += 1  # a server error (5xx): it answered, so this is no network outage
                if not self._retry_later(item, active, attempt, exc):
                    return
            except OSError as exc:
                if not self._connectivity.report_failure():
                    self._wait_online(active)
                    continue
                attempt += 1
                if not self._retry_later(item, active, attempt, exc):
                    return
            except Exception as exc:  # the server refused (e.g. not licensed here): retrying will not help
                log.exception("download of track %d failed", item.track_id)
                self._finish(active, "failed", str(exc) or type(exc).__name__)
                return

    def _retry_later(self, item: QueuedItem, active: ActiveDownload, attempt: int, exc: OSError) -> bool:
        """Wait with backoff before attempt ``attempt`` + 1; False (the item failed) once the attempts are used."""
        if attempt >= self._max_attempts:
            self._finish(active, "failed", f"download failed after {attempt} attempts: {exc}")
            return False
        delay = self._backoff.delay_s(attempt - 1)
        log.info("download of track %d failed (%s); retry %d in %.1f s", item.track_id, exc, attempt, delay)
        self._pause_for(active, delay, f"retrying after an error: {exc}")
        return True

    def _transfer(self, item: QueuedItem, active: ActiveDownload) -> None:
        what = f"'{item.title}'"
        try:
            self._transfer_chunks(item, active, what)
        except (OSError, sqlite3.OperationalError) as exc:
            full = disk_full_error(self._disk_dir, f"downloading {what}", exc)
            if full is not None:
                raise full from exc
            raise

    def _transfer_chunks(self, item: QueuedItem, active: ActiveDownload, what: str) -> None:
        queued = self.queue.item(item.track_id)  # an earlier attempt may have resolved the manifest
        known = queued.manifest if queued is not None else None
        if known is None:
            known = self._source.manifest(item.track_id)
            self.queue.set_manifest(item.track_id, known)
        active.file_id = known.file_id
        self._store.pin(known)
        active.check()
        if self._licence_due(known.file_id):
            self._fetch_licence(known)
        fetch_missing_chunks(known, active, Transfer(
            self._store, self._source.open_range, self._connectivity.report_success, self._progressed,
            DiskBudget(self._disk_dir, self._reserve_bytes, what), self._request_bytes))

    def _pause_for(self, active: ActiveDownload, delay_s: float, note: str) -> None:
        with self._cv:
            active.note, active.waiting = note, True
        self._changed()
        with self._cv:
            self._cv.wait_for(lambda: active.stop is not None, delay_s)
            active.note, active.waiting = None, False
        active.check()

    def _wait_online(self, active: ActiveDownload) -> None:
        with self._cv:
            active.note, active.waiting = "waiting until the server can be reached (or offline mode is off)", True
        self._changed()
        with self._cv:
            self._cv.wait_for(lambda: active.stop is not None or self._connectivity.online)
            active.note, active.waiting = None, False
        active.check()

    def _finish(self, active: ActiveDownload, state: Literal["done", "queued", "failed"],
                error: str | None = None) -> None:
        with self._cv:
            stop = active.stop
            if stop in ("cancel", "pause"):
                return  # the command already wrote the item's new state (or deleted it)
            with active.progress_lock:
                done = active.bytes_done
            self.queue.set_state(active.track_id, state, error, done)

    # -- internals ---------------------------------------------------------------------------------------

    def _licence_due(self, file_id: int) -> bool:
        expiry = self.queue.licence_expiry(file_id)
        return expiry is None or expiry <= self._clock() + RENEW_BEFORE_S

    def _fetch_licence(self, manifest: FileManifest) -> None:
        licence = self._source.offline_licence(manifest.file_id)
        self._store.store_key(manifest, licence.key)
        self.queue.set_licence_expiry(manifest.file_id, self._clock() + licence.valid_s)

    def _unpin_files(self, items: list[QueuedItem]) -> None:
        """Let the cache evict what was downloaded for these items, like any other cached file."""
        for item in items:
            if item.manifest is None:
                continue
            try:
                self._store.unpin(item.manifest.file_id)
            except (OSError, sqlite3.OperationalError) as exc:
                full = disk_full_error(self._disk_dir, f"removing the download of '{item.title}'", exc)
                if full is not None:
                    raise full from exc
                raise

    def _stop_released(self, track_ids: list[int]) -> None:
        with self._cv:
            for track_id in track_ids:
                self._stop_active(track_id, "cancel")
        self._changed()

    def _stop_active(self, track_id: int, stop: Stop) -> None:
        active = self._active.get(track_id)
        if active is not None:
            active.request_stop(stop)
            self._cv.notify_all()

    def _done_now(self, item: QueuedItem) -> int:
        active = self._active.get(item.track_id)
        if active is None:
            return item.bytes_done
        with active.progress_lock:
            return active.bytes_done

    def _progress_of(self, active: ActiveDownload) -> Progress:
        with active.progress_lock:
            done, total = active.bytes_done, active.bytes_total
        rate = active.meter.rate_bps()
        return Progress(done, total, rate, (total - done) / rate if rate > 0 else None)

    def _on_connectivity_changed(self, state: ConnectivityState) -> None:
        with self._cv:
            self._cv.notify_all()
            if not state.online or self._closing or (self._renewer is not None and self._renewer.is_alive()):
                return
            self._renewer = threading.Thread(target=self.renew_licences, name="legato-licence-renewal",
                                             daemon=True)
            self._renewer.start()

    def _changed(self) -> None:
        with self._cv:
            self._cv.notify_all()
        self._progressed()

    def _progressed(self) -> None:
        """Bytes moved (after every chunk): the views want to know, but nothing waiting on the condition does,
        and waking those waiters per chunk (wait_idle reads the queue) would hold the workers back."""
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
