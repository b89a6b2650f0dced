"""Playback from an origin that sheds its file requests (503 + Retry-After; the real server with its admission
knobs set tiny): a stalled track waits at least what the server asked before its bytes come, and plays on to its
end bit-exact, with the real content store and engine on a render sink."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
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
    TrackStarted,
)
from player.wav import read_wav
from server import origin
from tests.helpers.edge_cache import origin_requests
from tests.helpers.own_server import own_server
from tests.helpers.render_harness import TIMEOUT_S, Recorder

RETRY_AFTER_S = 1.0  # what the server says to a shed request at these knobs (it never says less than 1 s)
SHEDDING = {"LEGATO_ADMIT_FILES_RATE": "10", "LEGATO_ADMIT_FILES_BURST": "2"}


class OriginFiles:
    """The ciphertext straight from the origin store on disk: what the track must sound like, known without
    asking the shedding server."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir

    def fetch(self, manifest: FileManifest, start: int, end: int) -> bytes:
        with open(origin.origin_path(self._data_dir, manifest.file_id), "rb") as ciphertext:
            ciphertext.seek(start)
            return ciphertext.read(end - start)


@pytest.fixture
def shedding(demo_data: Path, tmp_path: Path) -> Iterator[tuple[ApiClient, Path, Path]]:
    log = tmp_path / "origin.log"
    with own_server(demo_data, tmp_path / "origin", {**SHEDDING, "LEGATO_REQUEST_LOG": str(log)}) as server:
        assert server.url is not None
        api = ApiClient(server.url)
        try:
            api.login("alice", "alice-pw")
            yield api, server.data_dir, log
        finally:
            api.close()


def test_a_stalled_track_waits_out_retry_after_and_plays_on_bit_exact(
        shedding: tuple[ApiClient, Path, Path], tmp_path: Path) -> None:
    api, data_dir, log = shedding
    track_id = int(api.album(1)["tracks"][0]["id"])
    files = {f["quality"]: f for f in api.manifest(track_id)["files"]}
    manifest = FileManifest.from_json(files["lossless"])
    expected = Decoder(DecryptingSource(manifest, api.licence(manifest.file_id), OriginFiles(data_dir)),
                       manifest.frames).read_all()
    store = ContentStore(tmp_path / "cache", api, api, MasterKey(os.urandom(32)), prefetch_seconds=0.0,
                         read_ahead_chunks=1)
    recorder = Recorder()
    engine = Engine(RenderSink(tmp_path / "heard.wav"), recorder, reconnect_s=TIMEOUT_S)
    try:
        engine.set_queue([QueueItem(str(manifest.file_id), lambda: store.open(manifest), manifest.frames)])
        engine.play()
        assert recorder.finished.wait(TIMEOUT_S * 2), recorder.events
    finally:
        engine.close()
        store.close()

    assert [e.index for e in recorder.of_type(TrackStarted)] == [0]
    assert recorder.of_type(PlaybackError) == []
    assert recorder.of_type(Reconnecting), "the track never stalled: the server's limit is too loose to test"
    heard, _ = read_wav(tmp_path / "heard.wav")
    np.testing.assert_array_equal(heard, expected)

    waits = [e.waited_s for e in recorder.of_type(Reconnected) if isinstance(e, Reconnected)]
    assert len(waits) == len(recorder.of_type(Reconnecting))  # every stall went on
    # The engine's own clock from each stall to its bytes: never sooner than the server asked (a bare backoff
    # starts at 50 ms and finds the bucket refilled within 0.5 s).
    assert all(wait >= RETRY_AFTER_S for wait in waits), waits
    fetches = origin_requests(log, f"/files/{manifest.file_id}")
    assert any(fetch.status == 503 for fetch in fetches)
    last_answer = {fetch.byte_range: fetch.status for fetch in fetches}
    assert set(last_answer.values()) == {206}  # every range the server shed was fetched in the end
