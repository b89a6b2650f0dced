"""A full disk (a 2 MB tmpfs for the cache): a clear error, nothing corrupt, the rest keeps working, and the
downloads finish once space is freed."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cache import DiskCache, MasterKey
from cache.stream import chunk_intact
from client.api import ApiClient
from offline import PinKey
from tests.helpers.offline_harness import (
    WAIT_S,
    RecordingSource,
    album_tracks,
    disk_matches,
    make_parts,
)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                             check=False, capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip() or 'mount failed'}); "
                    "the full-disk test needs root or a mount namespace")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


@pytest.mark.parametrize("check_before", [True, False], ids=["space-check-before", "enospc-during-write"])
def test_full_disk_fails_the_download_clearly_and_corrupts_nothing(
        check_before: bool, tmp_path: Path, small_disk: Path, live_server: Any,
        make_api: Callable[[Any], ApiClient], master_key: MasterKey) -> None:
    api = make_api(live_server)
    # A reserve below zero turns the free-space check off, so the write itself meets ENOSPC.
    reserve = 0 if check_before else -(1 << 40)
    cache = small_disk / "cache"
    parts = make_parts(tmp_path, api, RecordingSource(api, "lossless"), master_key, cache_dir=cache,
                       concurrency=1, reserve_bytes=reserve)
    try:
        for index in range(2):
            album_id, tracks = album_tracks(api, index)
            parts.downloader.pin(PinKey("album", album_id), f"Album {index}", tracks)
        assert parts.downloader.wait_idle(WAIT_S)
        snapshot = parts.downloader.snapshot()
        failed = [item for item in snapshot.items if item.state == "failed"]
        assert failed, "a 2 MB disk cannot hold two lossless albums"
        message = failed[0].error or ""
        expected = "not enough free disk space" if check_before else "filled up"
        assert expected in message and "free some space" in message.lower()
        assert any(pin.label == "error" for pin in snapshot.pins)
        done = [item for item in parts.downloader.queue.items() if item.state == "done"]
        assert done and all(disk_matches(cache, item.manifest) for item in done if item.manifest)
        assert parts.connectivity.online  # a full disk is not a network problem
        playable = parts.availability.local_manifest(done[0].track_id)
        assert parts.store.open(playable).read_at(0, 4096)  # what was downloaded still plays
        subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)  # space freed
        parts.downloader.resume_all()
        assert parts.downloader.wait_idle(WAIT_S)
        items = parts.downloader.queue.items()
        assert all(item.state == "done" for item in items)
        assert all(disk_matches(cache, item.manifest) for item in items if item.manifest)
        parts.downloader.unpin(snapshot.pins[-1].key)
        assert len(parts.downloader.snapshot().pins) == 1
    finally:
        parts.close()
    reopened = DiskCache(cache)
    try:
        for cached in reopened.files():
            manifest = reopened.manifest(cached.file_id)
            assert manifest is not None
            for index in range(manifest.chunk_count):
                data = reopened.read_chunk(cached.file_id, index)
                if data is not None:
                    assert chunk_intact(manifest, index, data)
        assert not any((cache / "incoming").iterdir())  # no half-written temp files left behind
    finally:
        reopened.close()
