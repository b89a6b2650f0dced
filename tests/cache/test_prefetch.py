"""The RAM tier: the opening seconds of the next three files, in queue order, re-planned on queue edits."""

from __future__ import annotations

import math
from pathlib import Path

from cache import ContentStore, FileManifest, MasterKey, PrefetchItem
from cache.prefetch import DEFAULT_RAM_BYTES, make_plan, opening_chunks, start_chunks
from client.api import ApiClient
from tests.helpers.store_harness import WAIT_S, Recorder

SECONDS = 2.0


def item(manifest: FileManifest) -> PrefetchItem:
    return PrefetchItem(manifest, manifest.duration_s)


def expected_ranges(manifest: FileManifest) -> list[tuple[int, int, int]]:
    """The opening SECONDS rounded up to whole chunks, then the chunks holding the last 64 KiB (Ogg probes it)."""
    wanted = math.ceil(manifest.size_bytes * SECONDS / manifest.duration_s)
    opening_end = min(manifest.size_bytes, math.ceil(wanted / manifest.chunk_size) * manifest.chunk_size)
    tail_start = (manifest.size_bytes - 65536) // manifest.chunk_size * manifest.chunk_size
    if tail_start <= opening_end:
        return [(manifest.file_id, 0, manifest.size_bytes)]
    return [(manifest.file_id, 0, opening_end), (manifest.file_id, tail_start, manifest.size_bytes)]


def held(manifest: FileManifest) -> int:
    return sum(end - start for _, start, end in expected_ranges(manifest))


def store_for(tmp_path: Path, recorder: Recorder, master_key: MasterKey,
              ram_bytes: int = DEFAULT_RAM_BYTES) -> ContentStore:
    return ContentStore(tmp_path, recorder, recorder, master_key, prefetch_seconds=SECONDS, ram_bytes=ram_bytes)


def test_opening_is_rounded_up_to_whole_chunks_and_the_tail_comes_right_after_chunk_0() -> None:
    chunk = 16 * 1024
    manifest = FileManifest.from_json({
        "id": 1, "quality": "high", "codec": "opus", "url": "/files/1", "size_bytes": 100 * chunk,
        "chunk_size": chunk, "chunks": ["0" * 64] * 100, "frames": 100 * 48000, "sample_rate": 48000})
    assert opening_chunks(manifest, 100.0, 10.0) == 10   # exactly 10 chunks' worth
    assert opening_chunks(manifest, 99.0, 10.0) == 11    # a little more: one more whole chunk
    assert opening_chunks(manifest, 5.0, 10.0) == 100    # never past the end of the file
    assert start_chunks(manifest, 100.0, 10.0) == (0, 96, 97, 98, 99, *range(1, 10))
    plan = make_plan([PrefetchItem(manifest, 100.0)] * 2, 3, 10.0, 3 * chunk)
    assert [p.chunks for p in plan] == [(0, 96, 97)]  # one entry per file, cut to the byte bound


def test_next_three_files_are_fetched_in_queue_order(
        tmp_path: Path, api: ApiClient, demo_files: dict[str, list[FileManifest]], master_key: MasterKey) -> None:
    files = demo_files["lossless"][:4]
    recorder = Recorder(api)
    store = store_for(tmp_path, recorder, master_key)
    try:
        store.plan_prefetch([item(m) for m in files])
        assert store.wait_prefetched(WAIT_S)
        assert recorder.ranges == [r for m in files[:3] for r in expected_ranges(m)]
        assert recorder.licences == [m.file_id for m in files[:3]]
        assert store.ram_bytes() == sum(held(m) for m in files[:3])
    finally:
        store.close()


def test_queue_edit_cancels_dropped_files_and_frees_their_memory(
        tmp_path: Path, api: ApiClient, demo_files: dict[str, list[FileManifest]], master_key: MasterKey) -> None:
    a, b, c, d, e = demo_files["lossless"][:5]
    recorder = Recorder(api)
    store = store_for(tmp_path, recorder, master_key)
    try:
        store.plan_prefetch([item(m) for m in (a, b)])
        assert store.wait_prefetched(WAIT_S)
        recorder.hold()
        recorder.waiting.clear()
        store.plan_prefetch([item(m) for m in (a, b, c, e)])
        assert recorder.waiting.wait(WAIT_S)  # c's fetch is in flight
        store.plan_prefetch([item(m) for m in (b, d)])  # a and c removed, d added, e no longer in the first 3
        assert store.ram_bytes() == held(b)  # a freed at once
        recorder.release()
        assert store.wait_prefetched(WAIT_S)
        assert sorted(set(recorder.files_fetched()), key=recorder.files_fetched().index) == [
            a.file_id, b.file_id, c.file_id, d.file_id]
        assert store.ram_bytes() == held(b) + held(d)  # c's late result was dropped
        store.plan_prefetch([])
        assert store.ram_bytes() == 0
    finally:
        recorder.release()
        store.close()


def test_memory_bound_is_respected_in_queue_order(
        tmp_path: Path, api: ApiClient, demo_files: dict[str, list[FileManifest]], master_key: MasterKey) -> None:
    a, b, c = demo_files["lossless"][:3]
    bound = held(a) + b.chunk_size
    recorder = Recorder(api)
    store = store_for(tmp_path, recorder, master_key, ram_bytes=bound)
    peaks: list[int] = []
    recorder.on_fetch = lambda: peaks.append(store.ram_bytes())
    try:
        store.plan_prefetch([item(m) for m in (a, b, c)])
        assert store.wait_prefetched(WAIT_S)
        assert max([*peaks, store.ram_bytes()]) <= bound
        assert recorder.ranges == [*expected_ranges(a), (b.file_id, 0, b.chunk_size)]
        assert store.ram_bytes() == bound
    finally:
        store.close()
