"""The engine rides out the network: the real server stops partway through a track that is only partly
here, with the real content store and the real engine on a render sink. Past the bound the cached next
track plays bit-exact; a server back in time lets the same track continue; a corrupt chunk is re-fetched.
A server that hangs (SIGSTOPped: it accepts connections and never answers) does not hold up a skip or a stop."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from cache import ContentStore, DecryptingSource, FileManifest, MasterKey
from client.api import ApiClient
from player import (
    Decoder,
    Engine,
    PlaybackError,
    QueueItem,
    Reconnected,
    Reconnecting,
    RenderSink,
    StateChanged,
    TrackStarted,
)
from player.wav import read_wav
from tests.helpers.render_harness import TIMEOUT_S, Recorder, assert_faded_in, ramp_frames

OPENING_S = 1.0  # what the RAM tier holds of the first track before the server goes


@dataclass
class Rig:
    """A server of the test's own on a copy of the demo catalog, a logged-in client, and the first
    album's lossless files; `restart()` brings the stopped server back on the same port."""

    servers: list[Any]
    control: Any
    api: ApiClient
    files: list[FileManifest]

    def stop(self) -> None:
        self.control.stop_server(self.servers[-1])

    def restart(self) -> None:
        stopped = self.servers[-1]
        self.servers.append(self.control.start_server(stopped.data_dir, int(stopped.url.rsplit(":", 1)[1])))

    @contextmanager
    def hung(self) -> Iterator[None]:
        """The server process stopped (SIGSTOP) for the block: the kernel still accepts its connections,
        nothing answers them. SIGCONT at the end, whatever happens."""
        pid = self.servers[-1].handle._process.pid  # BundledServer keeps its process to itself
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    def patient_api(self) -> ApiClient:
        """The session with an HTTP timeout far past the tests' own waits: an engine that waits for a hung
        read to time out before acting on a command fails the test instead of passing late."""
        return ApiClient(self.servers[-1].url, self.api.token, timeout_s=4 * TIMEOUT_S)

    def expected(self, manifest: FileManifest) -> npt.NDArray[np.float32]:
        """The file decoded straight from the network (no cache involved)."""
        source = DecryptingSource(manifest, self.api.licence(manifest.file_id), self.api)
        return Decoder(source, manifest.frames, name="expected").read_all()


@pytest.fixture
def rig(demo_data: Path, tmp_path: Path, demo_login: tuple[str, str],
        request: pytest.FixtureRequest) -> Iterator[Rig]:
    # tests/conftest.py's start_server/stop_server; "import conftest" would find this folder's conftest.
    control = request.config.pluginmanager.get_plugin(str(Path(__file__).parents[1] / "conftest.py"))
    data = tmp_path / "server-data"
    shutil.copytree(demo_data, data)
    servers = [control.start_server(data)]
    api = ApiClient(servers[0].url)
    try:
        api.login(*demo_login)
        tracks = api.album(int(api.albums()[0]["id"]))["tracks"]
        files = []
        for track in tracks:
            by_quality = {f["quality"]: f for f in api.manifest(int(track["id"]))["files"]}
            files.append(FileManifest.from_json(by_quality["lossless"]))
        yield Rig(servers, control, api, files)
    finally:
        api.close()
        for server in servers:
            control.stop_server(server)


class CorruptingFetcher:
    """The real API as the store's ChunkFetcher, except that the first `times` responses covering byte
    `at` come back with that byte flipped (a fault the real server cannot produce on cue)."""

    def __init__(self, api: ApiClient, at: int, times: int) -> None:
        self._api = api
        self._at = at
        self._left = times
        self._lock = threading.Lock()
        self.corrupted = 0

    def fetch(self, manifest: FileManifest, start: int, end: int) -> bytes:
        data = self._api.fetch(manifest, start, end)
        with self._lock:
            if not start <= self._at < end or self._left == 0:
                return data
            self._left -= 1
            self.corrupted += 1
        flipped = bytearray(data)
        flipped[self._at - start] ^= 0xFF
        return bytes(flipped)


def open_store(tmp_path: Path, api: ApiClient, fetcher: Any = None) -> ContentStore:
    return ContentStore(tmp_path / "cache", fetcher or api, api, MasterKey(os.urandom(32)),
                        prefetch_seconds=OPENING_S, read_ahead_chunks=1)


def items(store: ContentStore, files: list[FileManifest]) -> list[QueueItem]:
    return [QueueItem(str(m.file_id), lambda m=m: store.open(m), m.frames,
                      playable_offline=lambda m=m: store.playable_offline(m)) for m in files]


def cache_whole(store: ContentStore, manifest: FileManifest) -> None:
    size = manifest.size_bytes
    assert len(store.open(manifest).read_at(0, size)) == size
    assert store.playable_offline(manifest)


def hold_opening(store: ContentStore, manifest: FileManifest) -> None:
    """Only the opening of `manifest` (and its tail) in RAM: the rest needs the server."""
    from cache import PrefetchItem

    store.plan_prefetch([PrefetchItem(manifest, manifest.duration_s)])
    assert store.wait_prefetched(TIMEOUT_S)
    assert not store.playable_offline(manifest)


def play(engine: Engine, recorder: Recorder, queue: list[QueueItem]) -> None:
    engine.set_queue(queue)
    engine.play()
    assert recorder.finished.wait(TIMEOUT_S), recorder.events
    engine.close()


def play_with_the_server_gone(rig: Rig, tmp_path: Path, cached: FileManifest, queue: list[FileManifest],
                              ) -> tuple[npt.NDArray[np.float32], Recorder]:
    """``cached`` whole on disk, only the opening of ``queue[0]`` in RAM, then the server stopped: the queue played
    to its end with a 1 s reconnect bound. Returns what was heard and the events."""
    store = open_store(tmp_path, rig.api)
    try:
        cache_whole(store, cached)
        hold_opening(store, queue[0])
        rig.stop()
        recorder = Recorder()
        engine = Engine(RenderSink(tmp_path / "heard.wav"), recorder, reconnect_s=1.0)
        play(engine, recorder, items(store, queue))
    finally:
        store.close()
    heard, _ = read_wav(tmp_path / "heard.wav")
    return heard, recorder


def wait_for(condition: Callable[[], bool], what: str) -> None:
    done = threading.Event()
    for _ in range(int(TIMEOUT_S / 0.01)):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def output_errors(recorder: Recorder) -> list[PlaybackError]:
    return [e for e in recorder.of_type(PlaybackError) if isinstance(e, PlaybackError) and e.index < 0]


def test_past_the_bound_the_cached_next_track_plays_bit_exact(rig: Rig, tmp_path: Path) -> None:
    first, second = rig.files[0], rig.files[1]
    expected_first, expected_second = rig.expected(first), rig.expected(second)
    heard, recorder = play_with_the_server_gone(rig, tmp_path, second, [first, second])
    assert [(e.index, e.key) for e in recorder.of_type(Reconnecting)] == [(0, str(first.file_id))]
    errors = recorder.of_type(PlaybackError)
    assert [e.index for e in errors] == [0] and "gave up after 1 s" in errors[0].message  # type: ignore[attr-defined]
    assert not output_errors(recorder)
    assert [e.index for e in recorder.of_type(TrackStarted)] == [0, 1]
    played_first = len(heard) - len(expected_second)
    assert 0 < played_first < len(expected_first)  # the first track stopped partway, where its bytes did
    np.testing.assert_array_equal(heard[:played_first], expected_first[:played_first])
    np.testing.assert_array_equal(heard[played_first:], expected_second)


def test_with_the_network_gone_a_track_that_needs_it_is_skipped_without_stalling(
        rig: Rig, tmp_path: Path) -> None:
    first, uncached, cached = rig.files[0], rig.files[1], rig.files[2]
    expected_cached = rig.expected(cached)
    heard, recorder = play_with_the_server_gone(rig, tmp_path, cached, [first, uncached, cached])
    assert [e.index for e in recorder.of_type(Reconnecting)] == [0]  # one stall, not one per track
    errors = [e for e in recorder.of_type(PlaybackError) if isinstance(e, PlaybackError)]
    assert [e.index for e in errors] == [0, 1]
    assert "not on this device, and the server cannot be reached" in errors[1].message
    assert [e.index for e in recorder.of_type(TrackStarted)] == [0, 2]
    np.testing.assert_array_equal(heard[len(heard) - len(expected_cached):], expected_cached)


def test_a_server_back_within_the_bound_lets_the_same_track_continue_without_a_click(
        rig: Rig, tmp_path: Path) -> None:
    first, second = rig.files[0], rig.files[1]
    reference = np.concatenate([rig.expected(first), rig.expected(second)])
    store = open_store(tmp_path, rig.api)
    sink = RenderSink(tmp_path / "heard.wav", speed=4.0)  # heard like a device: silence when the ring is dry
    try:
        hold_opening(store, first)
        rig.stop()
        recorder = Recorder()
        engine = Engine(sink, recorder)
        engine.set_queue(items(store, [first, second]))
        engine.play()
        wait_for(lambda: bool(recorder.of_type(Reconnecting)) and sink.silent_frames > 0,
                 "the stalled track to fall silent")
        rig.restart()
        assert recorder.finished.wait(TIMEOUT_S), recorder.events
        engine.close()
    finally:
        store.close()
    heard, _ = read_wav(tmp_path / "heard.wav")
    assert [e.index for e in recorder.of_type(Reconnecting)] == [0]
    assert [(e.index, e.key) for e in recorder.of_type(Reconnected)] == [(0, str(first.file_id))]
    assert not recorder.of_type(PlaybackError)
    silence = sink.silent_frames
    assert len(heard) == len(reference) + silence  # both tracks whole, plus the silence the sink wrote
    # The longest silence sits where the first track stalled (a loaded machine may add a block at the start);
    # with every silence taken out, only the fades around the stall differ from the source.
    kept = np.ones(len(heard), dtype=bool)
    for start, frames in sink.silences:
        assert np.all(heard[start:start + frames] == 0.0)
        kept[start:start + frames] = False
    stall_start = max(sink.silences, key=lambda run: run[1])[0]
    at = stall_start - sum(frames for start, frames in sink.silences if start < stall_start)
    rejoined = heard[kept]
    ramp = ramp_frames(first.sample_rate)
    assert_faded_in(rejoined[:ramp], reference[:ramp], first.sample_rate)  # the first sound, as on a device
    differing = np.flatnonzero(np.any(rejoined[ramp:] != reference[ramp:], axis=1)) + ramp
    assert len(differing) <= 2 * (ramp + 1) and np.all(np.abs(differing - at) <= ramp + 1)
    # No click: no step between neighbouring samples larger than the source ever takes.
    assert np.abs(np.diff(heard, axis=0)).max() <= np.abs(np.diff(reference, axis=0)).max() + 1e-6


def test_a_chunk_corrupt_on_the_network_is_fetched_again_and_playback_goes_on(
        rig: Rig, tmp_path: Path) -> None:
    first = rig.files[0]
    expected = rig.expected(first)
    middle = first.chunk_span(first.chunk_count // 2)[0] + 100
    # Four bad answers: more than the store's read-ahead and its own second try can absorb, so the
    # engine itself must stall and fetch the chunk again.
    fetcher = CorruptingFetcher(rig.api, middle, times=4)
    store = open_store(tmp_path, rig.api, fetcher)
    try:
        recorder = Recorder()
        engine = Engine(RenderSink(tmp_path / "heard.wav"), recorder)
        play(engine, recorder, items(store, [first]))
    finally:
        store.close()
    heard, _ = read_wav(tmp_path / "heard.wav")
    assert fetcher.corrupted == 4
    assert not recorder.of_type(PlaybackError)
    assert [e.index for e in recorder.of_type(Reconnected)] == [0]
    np.testing.assert_array_equal(heard, expected)


def test_a_skip_while_a_read_hangs_on_the_server_plays_the_cached_next_track_bit_exact(
        rig: Rig, tmp_path: Path) -> None:
    first, second = rig.files[0], rig.files[1]
    expected_first, expected_second = rig.expected(first), rig.expected(second)
    api = rig.patient_api()
    store = open_store(tmp_path, api)
    sink = RenderSink(tmp_path / "heard.wav", speed=4.0)  # heard like a device: silence when the ring is dry
    try:
        cache_whole(store, second)
        hold_opening(store, first)
        recorder = Recorder()
        engine = Engine(sink, recorder)
        engine.set_queue(items(store, [first, second]))
        with rig.hung():
            engine.play()
            wait_for(lambda: sink.silent_frames > 0, "the hung read to leave the ring dry")
            engine.next()
            assert recorder.finished.wait(TIMEOUT_S), recorder.events
            silence = sink.silent_frames
        engine.close()
    finally:
        store.close()
        api.close()
    heard, _ = read_wav(tmp_path / "heard.wav")
    assert not recorder.of_type(Reconnecting)  # acted on while the read still hung, not once it failed
    assert not recorder.of_type(PlaybackError)
    assert [e.index for e in recorder.of_type(TrackStarted)] == [0, 1]
    played_first = len(heard) - silence - len(expected_second)
    assert 0 < played_first < len(expected_first)
    # The first sound and the skip both fade in (the engine's ramp); from there on each track is bit-exact.
    assert_faded_in(heard[:played_first], expected_first[:played_first], first.sample_rate)
    assert not heard[played_first:played_first + silence].any()
    assert_faded_in(heard[played_first + silence:], expected_second, second.sample_rate)


def test_a_seek_then_a_stop_while_reads_hang_on_the_server_stop_at_once(rig: Rig, tmp_path: Path) -> None:
    first = rig.files[0]
    api = rig.patient_api()
    store = open_store(tmp_path, api)
    sink = RenderSink(tmp_path / "heard.wav", speed=4.0)
    try:
        hold_opening(store, first)
        recorder = Recorder()
        engine = Engine(sink, recorder)
        engine.set_queue(items(store, [first]))
        with rig.hung():
            engine.play()
            wait_for(lambda: sink.silent_frames > 0, "the hung read to leave the ring dry")
            engine.seek(first.duration_s / 2)  # past the opening: the seek's own read hangs too
            engine.stop()
            assert engine.sync(TIMEOUT_S), "the worker did not act on the stop while the reads hung"
            assert engine.state == "stopped"
        engine.close()
    finally:
        store.close()
        api.close()
    assert recorder.of_type(StateChanged)[-1] == StateChanged("stopped")
    assert not recorder.of_type(Reconnecting) and not recorder.of_type(PlaybackError)
