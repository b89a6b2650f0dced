"""The RAM prefetch from an origin that sheds its file requests (the real server with its admission knobs set
tiny): each refused file is tried again no sooner than the server's Retry-After, and every opening is held. A
queue edit keeps a refused file's wait (a loader refused on cue, with the prefetcher's clock moved by hand)."""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from cache import ContentStore, FileManifest, MasterKey, PrefetchItem
from cache.prefetch import Prefetcher
from client.api import ApiClient
from offline import Backoff, ServerBusy
from tests.cache.test_prefetch import held
from tests.helpers.edge_cache import origin_requests
from tests.helpers.own_server import own_server
from tests.helpers.store_harness import WAIT_S

RETRY_AFTER_S = 1.0  # what the server says to a shed request at these knobs (it never says less than 1 s)
SHEDDING = {"LEGATO_ADMIT_FILES_RATE": "2", "LEGATO_ADMIT_FILES_BURST": "1"}


class RecordedBackoff:
    """offline.Backoff, the app's policy, with the waits it chose written down."""

    def __init__(self) -> None:
        self._backoff = Backoff(rng=random.Random(17))
        self.waits: list[float] = []

    def after_busy_s(self, attempt: int, retry_after_s: float | None) -> float:
        wait_s = self._backoff.after_busy_s(attempt, retry_after_s)
        self.waits.append(wait_s)
        return wait_s


@pytest.fixture
def shedding(demo_data: Path, tmp_path: Path) -> Iterator[tuple[ApiClient, Path]]:
    log = tmp_path / "origin.log"
    with own_server(demo_data, tmp_path / "origin", {**SHEDDING, "LEGATO_REQUEST_LOG": str(log)}) as server:
        assert server.url is not None
        api = ApiClient(server.url)
        try:
            api.login("alice", "alice-pw")
            yield api, log
        finally:
            api.close()


def test_prefetch_waits_out_retry_after_and_holds_every_opening(
        shedding: tuple[ApiClient, Path], tmp_path: Path, master_key: MasterKey) -> None:
    api, log = shedding
    manifests = [FileManifest.from_json(next(f for f in api.manifest(int(track["id"]))["files"]
                                             if f["quality"] == "high"))
                 for track in api.album(1)["tracks"][:3]]
    backoff = RecordedBackoff()
    store = ContentStore(tmp_path / "cache", api, api, master_key, prefetch_seconds=2.0, busy=backoff)
    try:
        store.plan_prefetch([PrefetchItem(m, m.duration_s) for m in manifests])
        assert store.wait_prefetched(WAIT_S * 2)
        assert store.ram_bytes() == sum(held(m) for m in manifests)  # every opening, none given up
    finally:
        store.close()

    assert backoff.waits, "the prefetch was never refused: the server's limit is too loose to test"
    assert all(RETRY_AFTER_S <= wait <= 2 * RETRY_AFTER_S for wait in backoff.waits), backoff.waits
    for manifest in manifests:
        fetches = origin_requests(log, f"/files/{manifest.file_id}")
        assert fetches and fetches[-1].status == 206
        # The origin's own clock: after each refusal, this file's next request came no sooner than asked.
        for refused, after in itertools.pairwise(fetches):
            if refused.status == 503:
                assert after.at - refused.at >= RETRY_AFTER_S, fetches
    assert any(f.status == 503 for f in origin_requests(log, "/files/"))


class AsAsked:
    """A policy that waits exactly the server's Retry-After."""

    def after_busy_s(self, attempt: int, retry_after_s: float | None) -> float:
        return retry_after_s or 0.0


def synthetic(file_id: int) -> FileManifest:
    return FileManifest.from_json({
        "id": file_id, "quality": "high", "codec": "opus", "url": f"/files/{file_id}", "size_bytes": 4 * 16384,
        "chunk_size": 16384, "chunks": ["0" * 64] * 4, "frames": 4 * 48000, "sample_rate": 48000})


def test_a_queue_edit_keeps_a_refused_files_wait_and_other_files_go_first() -> None:
    busy, other = synthetic(1), synthetic(2)
    now = [100.0]  # the prefetcher's clock, moved by hand
    loaded: list[int] = []
    other_loaded = threading.Event()

    def load(manifest: FileManifest, indices: Sequence[int]) -> dict[int, bytes]:
        loaded.append(manifest.file_id)
        if loaded == [busy.file_id]:
            raise ServerBusy("the server is busy (503)", 5.0)
        other_loaded.set()
        return {index: b"c" for index in indices}

    prefetcher = Prefetcher(load, busy=AsAsked(), clock=lambda: now[0])
    try:
        prefetcher.plan([PrefetchItem(busy, 4.0)])
        prefetcher.plan([PrefetchItem(busy, 4.0), PrefetchItem(other, 4.0)])  # a queue edit after the refusal
        assert other_loaded.wait(WAIT_S)
        # Plan order would take the refused file first: it waits its 5 s, so the other one went ahead.
        assert loaded == [busy.file_id, other.file_id]
        assert not prefetcher.wait_idle(0.0)  # the refused file is still to come
        now[0] += 5.0
        prefetcher.plan([PrefetchItem(busy, 4.0), PrefetchItem(other, 4.0)])
        assert prefetcher.wait_idle(WAIT_S)
        assert loaded == [busy.file_id, other.file_id, busy.file_id]
        assert prefetcher.get(busy.file_id, 0) == b"c"
    finally:
        prefetcher.close()
