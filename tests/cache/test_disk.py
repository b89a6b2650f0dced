"""The disk tier: LRU by last play within the cap, pins, cap changes, crash safety (kill -9), reconciling."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cache import DiskCache, FileManifest
from tests.helpers.chunk_data import chunks_of, file_bytes, manifest_for

CHUNK = 1024
HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def play(disk: DiskCache, file_id: int, chunks: int = 3) -> FileManifest:
    data = file_bytes(file_id, CHUNK * chunks)
    manifest = manifest_for(file_id, data, CHUNK)
    disk.touch(manifest)
    for index, chunk in enumerate(chunks_of(data, CHUNK)):
        disk.put_chunk(manifest, index, chunk)
    return manifest


def stored(disk: DiskCache) -> list[int]:
    return [f.file_id for f in disk.files() if f.stored_bytes]


def test_least_recently_played_file_is_evicted_first(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path, cap_bytes=CHUNK * 9)
    one = play(disk, 1)
    play(disk, 2)
    play(disk, 3)
    disk.touch(one)  # played again: now 2 is the least recent
    play(disk, 4)
    assert stored(disk) == [3, 1, 4]
    assert disk.total_bytes() <= disk.cap_bytes


def test_pinned_file_survives_eviction(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path, cap_bytes=CHUNK * 6)
    disk.pin(play(disk, 1))
    for file_id in range(2, 6):
        play(disk, file_id)
    assert stored(disk) == [1, 5]
    assert disk.read_chunk(1, 0) == file_bytes(1, CHUNK * 3)[:CHUNK]


def test_lowering_the_cap_evicts_at_once_and_persists(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path, cap_bytes=CHUNK * 100)
    for file_id in range(1, 5):
        play(disk, file_id)
    disk.set_cap_bytes(CHUNK * 6)
    assert stored(disk) == [3, 4]
    disk.close()
    reopened = DiskCache(tmp_path)
    assert reopened.cap_bytes == CHUNK * 6 and stored(reopened) == [3, 4]


def test_unpinning_over_the_cap_evicts_at_once(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path, cap_bytes=CHUNK * 3)
    manifest = manifest_for(1, file_bytes(1, CHUNK * 5), CHUNK)
    disk.pin(manifest)
    for index, chunk in enumerate(chunks_of(file_bytes(1, CHUNK * 5), CHUNK)):
        disk.put_chunk(manifest, index, chunk)
    assert disk.total_bytes() == CHUNK * 5
    disk.unpin(1)
    assert disk.total_bytes() == 0


def test_a_chunk_written_behind_is_readable_at_once_and_on_disk_after_close(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path)
    data = file_bytes(1, CHUNK * 40)
    manifest = manifest_for(1, data, CHUNK)
    for index, chunk in enumerate(chunks_of(data, CHUNK)):
        disk.put_chunk_behind(manifest, index, chunk)
    assert disk.has_chunk(1, 39) and disk.read_chunk(1, 39) == data[39 * CHUNK:]
    disk.close()
    reopened = DiskCache(tmp_path)
    assert b"".join(reopened.read_chunk(1, index) or b"" for index in range(40)) == data
    assert reopened.total_bytes() == len(data)


def test_a_file_cleared_while_its_chunks_wait_to_be_written_is_not_written_after(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path)
    ahead = file_bytes(1, CHUNK * 200)  # a queue for the writer long enough that the last file waits behind it
    for index, chunk in enumerate(chunks_of(ahead, CHUNK)):
        disk.put_chunk_behind(manifest_for(1, ahead, CHUNK), index, chunk)
    last = file_bytes(2, CHUNK)
    disk.put_chunk_behind(manifest_for(2, last, CHUNK), 0, last)
    disk.clear()
    assert not disk.has_chunk(2, 0) and disk.read_chunk(2, 0) is None
    disk.close()
    reopened = DiskCache(tmp_path)
    assert reopened.total_bytes() == 0 and reopened.files() == []
    assert not any((tmp_path / "chunks").iterdir())


def test_clear_keeps_only_pinned_files(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path)
    disk.pin(play(disk, 1))
    play(disk, 2)
    disk.store_wrapped_key(play(disk, 3), b"wrapped")
    disk.clear()
    assert stored(disk) == [1] and disk.wrapped_key(3) is None
    assert sorted(p.name for p in (tmp_path / "chunks").iterdir()) == ["1"]


def test_reopen_drops_rows_whose_bytes_are_short_or_missing_and_orphan_files(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path)
    play(disk, 1)
    play(disk, 2)
    disk.close()
    (tmp_path / "chunks" / "1" / "0").write_bytes(b"short")
    (tmp_path / "chunks" / "2" / "2").unlink()
    (tmp_path / "chunks" / "9").mkdir()
    (tmp_path / "chunks" / "9" / "0").write_bytes(b"orphan")
    (tmp_path / "incoming" / "half-written").write_bytes(b"x")
    reopened = DiskCache(tmp_path)
    assert not reopened.has_chunk(1, 0) and reopened.has_chunk(1, 1)
    assert not reopened.has_chunk(2, 2) and reopened.has_chunk(2, 1)
    assert not (tmp_path / "chunks" / "9").exists()
    assert not list((tmp_path / "incoming").iterdir())


def assert_consistent(root: Path) -> int:
    """Every indexed chunk has its bytes and they verify; no file lies around that the index does not claim."""
    disk = DiskCache(root)
    checked = 0
    for cached in disk.files():
        manifest = disk.manifest(cached.file_id)
        assert manifest is not None
        for index in range(manifest.chunk_count):
            if disk.has_chunk(cached.file_id, index):
                data = disk.read_chunk(cached.file_id, index)
                assert data is not None
                assert hashlib.sha256(data).hexdigest() == manifest.chunk_sha256[index]
                checked += 1
    on_disk = sum(1 for d in (root / "chunks").iterdir() for _ in d.iterdir())
    assert on_disk == checked
    assert not list((root / "incoming").iterdir())
    disk.close()
    return checked


def test_kill_9_during_writes_leaves_a_consistent_cache(tmp_path: Path) -> None:
    rng = random.Random(4)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    first_file = 1
    for _round in range(5):
        writer = subprocess.Popen([sys.executable, str(HERE / "crash_writer.py"), str(tmp_path), str(first_file)],
                                  stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        assert writer.stdout is not None
        for _ in range(rng.randint(5, 60)):
            line = writer.stdout.readline()
            assert line, "the crash writer stopped on its own"
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        first_file = int(line.split()[0]) + 1
        assert assert_consistent(tmp_path) > 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["play", "pin", "unpin", "cap"]), st.integers(1, 6), st.integers(1, 4)),
                min_size=1, max_size=25))
def test_eviction_keeps_the_most_recently_played_unpinned_files(ops: list[tuple[str, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as root:
        disk = DiskCache(Path(root), cap_bytes=CHUNK * 8)
        played: list[int] = []  # play order, most recent last
        pinned: set[int] = set()
        ever_pinned_bytes: dict[int, int] = {}
        held_before: set[int] = set()
        for op, file_id, amount in ops:
            if op == "play":
                play(disk, file_id, amount)
                played = [f for f in played if f != file_id] + [file_id]
            elif op == "pin":
                manifest = disk.manifest(file_id)
                if manifest is not None:
                    disk.pin(manifest)
                    pinned.add(file_id)
                    ever_pinned_bytes[file_id] = next(f.stored_bytes for f in disk.files() if f.file_id == file_id)
            elif op == "unpin":
                disk.unpin(file_id)
                pinned.discard(file_id)
                ever_pinned_bytes.pop(file_id, None)
            else:
                disk.set_cap_bytes(CHUNK * amount * 3)
            held = {f.file_id: f for f in disk.files() if f.stored_bytes}
            for file_id_pinned, size in ever_pinned_bytes.items():
                assert held[file_id_pinned].stored_bytes >= size, "a pinned file lost bytes"
            unpinned_bytes = sum(f.stored_bytes for f in held.values() if not f.pinned)
            assert disk.total_bytes() <= disk.cap_bytes or unpinned_bytes == 0, "over the cap with evictable files"
            # Judge each eviction when it happens: a file pinned then and unpinned later rightly outlived it.
            survivors = [f for f in played if f in held and f not in pinned]
            unpinned_order = [f for f in played if f not in pinned]
            evicted = [f for f in unpinned_order if f in held_before and f not in held]
            held_before = set(held)
            if survivors and evicted:
                assert max(unpinned_order.index(f) for f in evicted) < min(
                    unpinned_order.index(f) for f in survivors), "a more recently played file was evicted first"
        disk.close()
