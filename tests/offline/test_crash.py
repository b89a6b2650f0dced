"""kill -9 in the middle of a download: the queue comes back, the download resumes by Range, nothing is corrupt;
killed with one big answer half-way through, it keeps every chunk whose bytes had arrived; killed every 2 s on a
slow link, a download still completes, keeping what it had received each time."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cache import DiskCache, FileManifest, MasterKey
from client.api import ApiClient
from tests.helpers.offline_harness import (
    WAIT_S,
    RecordingSource,
    album_tracks,
    disk_matches,
    intact_chunks,
    make_parts,
    stored_chunk_count,
    wait_until,
)
from tests.helpers.throttled_link import ThrottledLink

HERE = Path(__file__).parent
KILL_EVERY_S = 2.0
SLOW_LINK_BPS = 64 * 1024  # the track's file takes several seconds: longer than the process lives


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parents[1])])}


def test_killed_download_restores_its_queue_and_resumes_without_corruption(
        tmp_path: Path, live_server: Any, demo_login: tuple[str, str],
        make_api: Callable[[Any], ApiClient]) -> None:
    key = os.urandom(32)
    process = subprocess.Popen(
        [sys.executable, str(HERE / "download_process.py"), str(tmp_path), live_server.url, *demo_login, key.hex()],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_child_env())
    assert process.stdin is not None and process.stdout is not None
    with _reaped(process):
        assert process.stdout.readline().strip() == "pinned"
        fetched = []
        for _ in range(9):
            assert process.stdout.readline().strip() == "want"
            process.stdin.write("go\n")
            process.stdin.flush()
            fetched.append(process.stdout.readline().split())
        assert process.stdout.readline().strip() == "want"  # what was fetched is stored: kill it now
        process.send_signal(signal.SIGKILL)
        process.wait(WAIT_S)
    assert all(line[0] == "fetched" for line in fetched)

    api = make_api(live_server)
    source = RecordingSource(api, "lossless")
    parts = make_parts(tmp_path, api, source, MasterKey(key), concurrency=1)
    try:
        restored = parts.downloader.snapshot()
        assert [pin.title for pin in restored.pins] == ["Album 0", "Album 1"]
        assert {item.state for item in restored.items} <= {"queued", "done", "downloading"}
        assert sum(1 for item in restored.items if item.state == "done") >= 1
        assert parts.downloader.wait_idle(WAIT_S)
        items = parts.downloader.queue.items()
        assert all(item.state == "done" for item in items)
        assert all(disk_matches(tmp_path / "cache", item.manifest) for item in items if item.manifest)
        last_file, _, last_end = (int(v) for v in fetched[-1][1:])
        resumed = [f for f in source.delivered() if f.file_id == last_file]
        partial = next(i.manifest for i in items if i.manifest and i.manifest.file_id == last_file)
        assert 0 < last_end < partial.size_bytes  # killed inside a file
        assert resumed[0].start == last_end  # resumed by Range where the killed process was
        killed_bytes = sum(int(line[3]) - int(line[2]) for line in fetched)
        total = sum(item.manifest.size_bytes for item in items if item.manifest)
        assert killed_bytes + sum(f.end - f.start for f in source.delivered()) == total
    finally:
        parts.close()
    assert all(cached.pinned for cached in DiskCache(tmp_path / "cache").files())


def _first_lossless(api: ApiClient) -> FileManifest:
    _, tracks = album_tracks(api, 0)
    files = {f["quality"]: f for f in api.manifest(tracks[0].track_id)["files"]}
    return FileManifest.from_json(files["lossless"])


@contextmanager
def _reaped(process: subprocess.Popen[str]) -> Iterator[None]:
    """Whatever happens inside, the child is not left running (killed and waited for if it still is)."""
    try:
        yield
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _start_throttled_download(root: Path, url: str, login: tuple[str, str], key: bytes) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(HERE / "throttled_download_process.py"), str(root), url, *login,
                             key.hex()], stdout=subprocess.PIPE, text=True, env=_child_env())


def test_a_kill_with_one_big_answer_in_flight_keeps_every_chunk_whose_bytes_had_arrived(
        tmp_path: Path, live_server: Any, demo_login: tuple[str, str],
        make_api: Callable[[Any], ApiClient]) -> None:
    manifest = _first_lossless(make_api(live_server))
    chunk = manifest.chunk_size
    assert manifest.chunk_count >= 6
    link = ThrottledLink(int(live_server.url.rsplit(":", 1)[1]), SLOW_LINK_BPS * 4)
    key = os.urandom(32)
    cache = tmp_path / "cache"
    try:
        process = _start_throttled_download(tmp_path, link.url, demo_login, key)
        assert process.stdout is not None
        with _reaped(process):
            assert process.stdout.readline().strip() == "pinned"
            wait_until(lambda: sum(link.answer_body_bytes(206)) >= 2 * chunk + chunk // 2,
                       "two and a half chunks of the answer on the wire")
            link.hold()
            answers = link.answer_body_bytes(206)
            assert len(answers) == 1 and answers[0] < manifest.size_bytes  # one request, still in flight
            arrived = answers[0] // chunk  # whole chunks that reached the process; the next one only in part
            wait_until(lambda: stored_chunk_count(cache, manifest.file_id) == arrived,
                       f"the {arrived} chunks that arrived to be stored while their answer is still open")
            process.send_signal(signal.SIGKILL)
            process.wait(WAIT_S)
        assert stored_chunk_count(cache, manifest.file_id) == arrived
        assert intact_chunks(cache, manifest) == list(range(arrived))  # verified, and no part of the next one
        link.release()
        process = _start_throttled_download(tmp_path, link.url, demo_login, key)
        assert process.stdout is not None
        try:
            assert process.stdout.readline().strip() == "pinned"
            assert process.stdout.readline().strip() == "done"
        finally:
            process.wait(WAIT_S)
    finally:
        link.close()
    assert link.range_starts() == [0, arrived * chunk]  # resumed at the first chunk it did not have
    assert disk_matches(cache, manifest)


def _stored_bytes(cache_dir: Path) -> int:
    cache = DiskCache(cache_dir)
    try:
        return cache.total_bytes()
    finally:
        cache.close()


def test_a_download_killed_every_2_s_on_a_slow_link_still_completes_keeping_what_it_got(
        tmp_path: Path, live_server: Any, demo_login: tuple[str, str],
        make_api: Callable[[Any], ApiClient]) -> None:
    manifest = _first_lossless(make_api(live_server))
    link = ThrottledLink(int(live_server.url.rsplit(":", 1)[1]), SLOW_LINK_BPS)
    assert manifest.size_bytes > SLOW_LINK_BPS * KILL_EVERY_S  # one request for the file would never land
    key = os.urandom(32)
    stored = [0]
    outcome = ""
    try:
        for _ in range(15):
            process = _start_throttled_download(tmp_path, link.url, demo_login, key)
            assert process.stdout is not None
            with _reaped(process):
                assert process.stdout.readline().strip() == "pinned"
                try:
                    process.wait(KILL_EVERY_S)  # the slow link's schedule, not a wait for a result
                    outcome = process.stdout.read().strip()
                except subprocess.TimeoutExpired:
                    process.send_signal(signal.SIGKILL)
                    process.wait(WAIT_S)
            stored.append(_stored_bytes(tmp_path / "cache"))
            if outcome:
                break
    finally:
        link.close()
    assert outcome == "done"
    assert len(stored) >= 4, stored  # it was killed at least twice before it completed
    # Nothing stored is ever lost; a round on a loaded machine may be killed before its first chunk lands.
    assert all(later >= earlier for earlier, later in itertools.pairwise(stored)), stored
    assert sum(later > earlier for earlier, later in itertools.pairwise(stored)) >= 3, stored
    assert stored[-1] == manifest.size_bytes
    assert disk_matches(tmp_path / "cache", manifest)
