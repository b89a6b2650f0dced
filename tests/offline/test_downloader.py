"""The download manager against the real server: pins, resume by Range after the server went away, retries,
pause/resume/cancel (also mid-answer on a stalled link), refused ranges, playlist changes."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from cache import DiskCache, FileManifest, MasterKey
from client.api import ApiClient
from offline import PinKey, RangeBody, ServerBusy, TrackRef
from offline.transfer import first_batch
from tests.helpers.offline_harness import (
    WAIT_S,
    Fetch,
    Parts,
    RecordingSource,
    album_tracks,
    disk_matches,
    make_parts,
    wait_until,
)
from tests.helpers.throttled_link import ThrottledLink

SLOW_LINK_BPS = 256 * 1024


def manifests_of(parts: Parts) -> dict[int, Any]:
    return {item.track_id: item.manifest for item in parts.downloader.queue.items()}


def test_pinned_album_downloads_every_chunk_verified_and_never_evicted(
        tmp_path: Path, live_server: Any, make_api: Callable[[Any], ApiClient], master_key: MasterKey) -> None:
    api = make_api(live_server)
    source = RecordingSource(api)
    parts = make_parts(tmp_path, api, source, master_key)
    try:
        album_id, tracks = album_tracks(api)
        parts.downloader.pin(PinKey("album", album_id), "First album", tracks)
        assert parts.downloader.wait_idle(WAIT_S)
        snapshot = parts.downloader.snapshot()
        assert [item.state for item in snapshot.items] == ["done"] * len(tracks)
        assert snapshot.pins[0].label == "done" and snapshot.pins[0].done == len(tracks)
        assert snapshot.total.bytes_done == snapshot.total.bytes_total > 0
        manifests = manifests_of(parts)
        assert all(disk_matches(tmp_path / "cache", m) for m in manifests.values())
        assert sum(f.end - f.start for f in source.delivered()) == sum(m.size_bytes for m in manifests.values())
        assert sorted(source.licences) == sorted(m.file_id for m in manifests.values())
        parts.store.set_cap_bytes(0)  # a cache squeezed to nothing still keeps every download
        assert parts.store.stats().pinned_bytes == sum(m.size_bytes for m in manifests.values())
    finally:
        parts.close()


def test_download_resumes_by_range_where_it_stopped_when_the_server_comes_back(
        tmp_path: Path, own_server: list[Any], servers: Any, make_api: Callable[[Any], ApiClient],
        master_key: MasterKey) -> None:
    server = own_server[0]
    api = make_api(server)
    source = RecordingSource(api, "lossless")  # several chunks per file: the stop falls inside the first file
    stopped = []

    def stop_server_midway(n: int) -> None:
        if n == 3 and not stopped:
            servers.stop(server)
            stopped.append(n)

    source.before_fetch = stop_server_midway
    parts = make_parts(tmp_path, api, source, master_key, concurrency=1, request_bytes=64 * 1024)
    try:
        album_id, tracks = album_tracks(api)
        parts.downloader.pin(PinKey("album", album_id), "First album", tracks)
        wait_until(lambda: not parts.connectivity.online, "the downloader to notice the server is gone")
        wait_until(lambda: any(i.state == "waiting" for i in parts.downloader.snapshot().items),
                   "the download to wait for the server")
        before = source.delivered()
        assert len(before) == 3 and all(f.file_id == before[0].file_id for f in before)
        own_server.append(servers.restart(server))
        assert parts.downloader.wait_idle(WAIT_S)
        after = source.delivered()[3:]
        assert after[0].file_id == before[0].file_id
        assert after[0].start == before[-1].end > 0  # from where it was, not from zero
        manifests = manifests_of(parts)
        delivered = sum(f.end - f.start for f in source.delivered())
        assert delivered == sum(m.size_bytes for m in manifests.values())  # no byte fetched twice
        assert all(disk_matches(tmp_path / "cache", m) for m in manifests.values())
    finally:
        parts.close()


def test_playlist_that_gains_a_track_downloads_it_and_one_that_loses_a_track_releases_it(
        tmp_path: Path, live_server: Any, make_api: Callable[[Any], ApiClient], master_key: MasterKey) -> None:
    api = make_api(live_server)
    parts = make_parts(tmp_path, api, RecordingSource(api), master_key)
    key = PinKey("playlist", "road-trip")
    try:
        _, tracks = album_tracks(api)
        parts.downloader.pin(key, "Road trip", tracks[:2])
        assert parts.downloader.wait_idle(WAIT_S)
        dropped = manifests_of(parts)[tracks[0].track_id]
        parts.downloader.pin(key, "Road trip", tracks[1:3])
        assert parts.downloader.wait_idle(WAIT_S)
        snapshot = parts.downloader.snapshot()
        assert [(i.track_id, i.state) for i in snapshot.items] == [(t.track_id, "done") for t in tracks[1:3]]
        assert snapshot.pins[0].label == "done" and snapshot.pins[0].total == 2
        pinned = {f.file_id for f in DiskCache(tmp_path / "cache").files() if f.pinned}
        assert dropped.file_id not in pinned
        assert {m.file_id for m in manifests_of(parts).values()} == pinned
    finally:
        parts.close()


def test_pause_resume_and_cancel_act_on_one_track(
        tmp_path: Path, live_server: Any, make_api: Callable[[Any], ApiClient], master_key: MasterKey) -> None:
    api = make_api(live_server)
    source = RecordingSource(api, "lossless")
    source.gate()
    parts = make_parts(tmp_path, api, source, master_key, concurrency=1, request_bytes=64 * 1024)
    downloader = parts.downloader
    try:
        album_id, tracks = album_tracks(api)
        downloader.pin(PinKey("album", album_id), "First album", tracks[:3])
        first, second, third = (t.track_id for t in tracks[:3])
        source.allow(1)
        wait_until(lambda: len(source.delivered()) == 1, "the first chunk")
        downloader.pause(first)
        source.allow(1)  # the request in flight may finish; no further one starts for the paused track
        wait_until(lambda: downloader.queue.item(second).state == "downloading", "the next track to start")
        assert downloader.queue.item(first).state == "paused"
        downloader.cancel(third)
        assert downloader.queue.item(third) is None
        source.open_gate()
        wait_until(lambda: downloader.queue.item(second).state == "done", "the second track")
        assert downloader.queue.item(first).state == "paused"
        fetched_while_paused = [f for f in source.delivered() if f.file_id == first]
        downloader.resume(first)
        assert downloader.wait_idle(WAIT_S)
        assert downloader.queue.item(first).state == "done"
        first_file = manifests_of(parts)[first]
        requested = [f for f in source.delivered() if f.file_id == first_file.file_id]
        assert sum(f.end - f.start for f in requested) == first_file.size_bytes  # resumed, nothing fetched twice
        assert len(fetched_while_paused) <= 2
        assert {f.file_id for f in source.delivered()} == {m.file_id for m in manifests_of(parts).values()}
    finally:
        source.open_gate()
        parts.close()


def test_pause_all_holds_every_download_until_resume_all(
        tmp_path: Path, live_server: Any, make_api: Callable[[Any], ApiClient], master_key: MasterKey) -> None:
    api = make_api(live_server)
    source = RecordingSource(api)
    source.gate()
    parts = make_parts(tmp_path, api, source, master_key)
    try:
        album_id, tracks = album_tracks(api)
        parts.downloader.pin(PinKey("album", album_id), "First album", tracks)
        parts.downloader.pause_all()
        source.open_gate()
        wait_until(lambda: not any(i.state == "downloading" for i in parts.downloader.snapshot().items),
                   "running downloads to stop")
        snapshot = parts.downloader.snapshot()
        assert snapshot.paused and snapshot.pins[0].state == "paused"
        assert not any(i.state == "done" for i in snapshot.items)
        parts.downloader.resume_all()
        assert parts.downloader.wait_idle(WAIT_S)
        assert all(i.state == "done" for i in parts.downloader.snapshot().items)
    finally:
        source.open_gate()
        parts.close()


class BusyThenFine(RecordingSource):
    """Answers the first ``busy`` requests as the server would under load: 503 with Retry-After."""

    def __init__(self, api: ApiClient, retry_after_s: float, busy: int = 2) -> None:
        super().__init__(api)
        self.retry_after_s = retry_after_s
        self.busy = busy
        self.busy_at: list[float] = []

    def open_range(self, manifest: FileManifest, start: int, end: int) -> AbstractContextManager[RangeBody]:
        self.busy_at.append(time.monotonic())
        if len(self.busy_at) <= self.busy:
            raise ServerBusy("server busy (503)", self.retry_after_s)
        return super().open_range(manifest, start, end)


def test_server_busy_is_retried_no_sooner_than_retry_after(
        tmp_path: Path, live_server: Any, make_api: Callable[[Any], ApiClient], master_key: MasterKey) -> None:
    api = make_api(live_server)
    source = BusyThenFine(api, retry_after_s=0.3)
    parts = make_parts(tmp_path, api, source, master_key, concurrency=1)
    try:
        _, tracks = album_tracks(api)
        parts.downloader.pin(PinKey("playlist", "one"), "One", tracks[:1])
        assert parts.downloader.wait_idle(WAIT_S)
        assert parts.downloader.queue.item(tracks[0].track_id).state == "done"
        gaps = [later - earlier for earlier, later in itertools.pairwise(source.busy_at)][:2]
        assert len(gaps) == 2 and min(gaps) >= 0.3
    finally:
        parts.close()


class Broken(RecordingSource):
    """Every range request fails while the server itself answers (a bad file, not an outage)."""

    def open_range(self, manifest: FileManifest, start: int, end: int) -> AbstractContextManager[RangeBody]:
        self.fetches.append(Fetch(manifest.file_id, start, end, 0))
        raise OSError("connection reset by peer")


def test_a_track_that_keeps_failing_ends_failed_with_a_readable_error_and_can_be_retried(
        tmp_path: Path, live_server: Any, make_api: Callable[[Any], ApiClient], master_key: MasterKey) -> None:
    api = make_api(live_server)
    source = Broken(api)
    parts = make_parts(tmp_path, api, source, master_key, max_attempts=3)
    try:
        _, tracks = album_tracks(api)
        key = PinKey("playlist", "one")
        parts.downloader.pin(key, "One", tracks[:1])
        assert parts.downloader.wait_idle(WAIT_S)
        item = parts.downloader.snapshot().items[0]
        assert item.state == "failed" and len(source.fetches) == 3
        assert item.error is not None and "after 3 attempts" in item.error and "connection reset" in item.error
        assert parts.downloader.snapshot().pins[0].label == "error"
        assert parts.connectivity.online  # the server answered its probe: not a network outage
        parts.downloader.resume(tracks[0].track_id)
        assert parts.downloader.wait_idle(WAIT_S)
        assert len(source.fetches) == 6
    finally:
        parts.close()


def test_an_empty_pin_is_done_and_unpinning_forgets_it(
        tmp_path: Path, live_server: Any, make_api: Callable[[Any], ApiClient], master_key: MasterKey) -> None:
    api = make_api(live_server)
    parts = make_parts(tmp_path, api, RecordingSource(api), master_key)
    try:
        key = PinKey("playlist", "empty")
        parts.downloader.pin(key, "Empty", [TrackRef(1, "x")][:0])
        assert parts.downloader.snapshot().pins[0].label == "done"
        parts.downloader.unpin(key)
        assert parts.downloader.snapshot().pins == ()
    finally:
        parts.close()


def test_pin_key_round_trips_and_rejects_junk() -> None:
    for key in (PinKey("album", "12"), PinKey("playlist", "road-trip"), PinKey("liked", "songs")):
        assert PinKey.parse(str(key)) == key
    with pytest.raises(ValueError, match="not a pin key"):
        PinKey.parse("song:1")


class CorruptOnce(RecordingSource):
    """Flips a byte at the start of the first answer, as a broken proxy would."""

    def alter(self, n: int, k: int, piece: bytes) -> bytes:
        return bytes([piece[0] ^ 0xFF]) + piece[1:] if n == k == 0 else piece


def test_a_corrupt_range_is_refused_and_fetched_again(
        tmp_path: Path, live_server: Any, make_api: Callable[[Any], ApiClient], master_key: MasterKey) -> None:
    api = make_api(live_server)
    source = CorruptOnce(api)
    parts = make_parts(tmp_path, api, source, master_key)
    try:
        _, tracks = album_tracks(api)
        parts.downloader.pin(PinKey("playlist", "one"), "One", tracks[:1])
        assert parts.downloader.wait_idle(WAIT_S)
        manifest = manifests_of(parts)[tracks[0].track_id]
        assert parts.downloader.queue.item(tracks[0].track_id).state == "done"
        assert source.fetches[1].start == source.fetches[0].start == 0  # the bad range was asked for again
        assert disk_matches(tmp_path / "cache", manifest)
    finally:
        parts.close()


def test_a_request_covers_only_adjacent_missing_chunks() -> None:
    assert first_batch([3, 4, 5, 9], most=8) == (3, 6)
    assert first_batch([3, 4, 5, 9], most=2) == (3, 5)
    assert first_batch([9], most=8) == (9, 10)


def test_a_stop_while_waiting_to_retry_leaves_the_worker_running(
        tmp_path: Path, live_server: Any, make_api: Callable[[Any], ApiClient], master_key: MasterKey) -> None:
    api = make_api(live_server)
    source = BusyThenFine(api, retry_after_s=WAIT_S * 10, busy=1)  # the first track waits long to retry
    parts = make_parts(tmp_path, api, source, master_key, concurrency=1)
    try:
        _, tracks = album_tracks(api)
        first, second = (t.track_id for t in tracks[:2])
        parts.downloader.pin(PinKey("playlist", "two"), "Two", tracks[:2])
        wait_until(lambda: parts.downloader.snapshot().items[0].state == "waiting", "the wait to retry")
        parts.downloader.pause(first)
        assert parts.downloader.wait_idle(WAIT_S)  # the one worker went on to the next track
        assert parts.downloader.queue.item(first).state == "paused"
        assert parts.downloader.queue.item(second).state == "done"
    finally:
        parts.close()


class MovedFile(RecordingSource):
    """Asks for a file the server does not have (as after it was removed): a 404 to every range request."""

    def manifest(self, track_id: int) -> FileManifest:
        manifest = super().manifest(track_id)
        return dataclasses.replace(manifest, url=manifest.url.rsplit("/", 1)[0] + "/999999")


def test_a_refused_range_fails_the_track_at_once_with_the_servers_answer(
        tmp_path: Path, live_server: Any, make_api: Callable[[Any], ApiClient], master_key: MasterKey) -> None:
    api = make_api(live_server)
    source = MovedFile(api)
    parts = make_parts(tmp_path, api, source, master_key, max_attempts=5)
    try:
        _, tracks = album_tracks(api)
        parts.downloader.pin(PinKey("playlist", "one"), "One", tracks[:1])
        assert parts.downloader.wait_idle(WAIT_S)
        item = parts.downloader.snapshot().items[0]
        assert item.state == "failed" and len(source.fetches) == 1  # no retries: asking again will not help
        assert item.error is not None and "refused" in item.error and "404" in item.error
        assert tracks[0].title in item.error
        assert parts.connectivity.online  # the server answered: not a network outage
    finally:
        parts.close()


def test_a_pause_mid_answer_aborts_it_without_waiting_for_the_rest(
        tmp_path: Path, live_server: Any, demo_login: tuple[str, str], master_key: MasterKey) -> None:
    link = ThrottledLink(int(live_server.url.rsplit(":", 1)[1]), SLOW_LINK_BPS)
    api = ApiClient(link.url, timeout_s=WAIT_S * 10)  # a read left blocked would outlast every wait below
    source = RecordingSource(api, "lossless")
    parts = None
    try:
        api.login(*demo_login)
        parts = make_parts(tmp_path, api, source, master_key, concurrency=1)
        _, tracks = album_tracks(api)
        track = tracks[0].track_id
        manifest = source.manifest(track)
        parts.downloader.pin(PinKey("playlist", "one"), "One", tracks[:1])
        assert manifest.chunk_count >= 6  # the answer is still arriving long after its first chunks are stored
        wait_until(lambda: len(parts.store.stored_chunks(manifest)) >= 2, "two chunks stored")
        link.hold()  # the answer stalls half-way: only an abort can end the read now
        parts.downloader.pause(track)
        assert parts.downloader.wait_idle(WAIT_S)  # the worker let go of the stalled answer
        assert parts.downloader.queue.item(track).state == "paused"
        aborted = source.fetches[-1]
        assert (aborted.start, aborted.end) == (0, manifest.size_bytes)  # one request for the whole file ...
        assert 0 < aborted.received < manifest.size_bytes  # ... left before its end
        kept = len(parts.store.stored_chunks(manifest))
        assert parts.store.stored_chunks(manifest) == set(range(kept))
        link.release()
        parts.downloader.resume(track)
        assert parts.downloader.wait_idle(WAIT_S)
        assert parts.downloader.queue.item(track).state == "done"
        assert source.fetches[-1].start == kept * manifest.chunk_size  # resumed at the first chunk not kept
        assert link.range_starts() == [0, kept * manifest.chunk_size]
        assert disk_matches(tmp_path / "cache", manifest)
    finally:
        if parts is not None:
            parts.close()
        api.close()
        link.close()
