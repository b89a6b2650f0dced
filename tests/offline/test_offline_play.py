"""With the server stopped: a pinned album plays end to end, gapless, from disk; anything else is reported
unavailable at once rather than hanging."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cache import MasterKey
from client.api import ApiClient
from offline import PinKey, TrackUnavailable
from player import Decoder, Engine, QueueFinished, QueueItem, RenderSink
from player.wav import read_wav
from tests.helpers.offline_harness import (
    WAIT_S,
    RecordingSource,
    album_tracks,
    make_parts,
    wait_until,
)


def decode(source: Any, frames: int) -> np.ndarray:
    return Decoder(source, frames, name="expected").read_all()


def test_pinned_album_plays_gapless_from_disk_with_the_server_stopped(
        tmp_path: Path, own_server: list[Any], servers: Any, make_api: Callable[[Any], ApiClient],
        master_key: MasterKey) -> None:
    api = make_api(own_server[0])
    parts = make_parts(tmp_path, api, RecordingSource(api, "lossless"), master_key)
    try:
        album_id, tracks = album_tracks(api, 0)
        _, other_tracks = album_tracks(api, 1)
        other_files = [int(f["id"]) for f in api.manifest(other_tracks[0].track_id)["files"]]
        parts.downloader.pin(PinKey("album", album_id), "Gapless live album", tracks)
        assert parts.downloader.wait_idle(WAIT_S)
        servers.stop(own_server[0])
        assert not parts.connectivity.report_failure()

        manifests = [parts.availability.local_manifest(t.track_id) for t in tracks]
        assert all(parts.availability.playability(t.track_id).playable for t in tracks)
        expected = np.concatenate([decode(parts.store.open(m), m.frames) for m in manifests])

        verdict = parts.availability.playability(other_tracks[0].track_id, other_files)
        with pytest.raises(TrackUnavailable, match=r"not downloaded or cached.*server cannot be reached"):
            parts.availability.local_manifest(other_tracks[0].track_id, other_files)
        assert not verdict.playable and "not downloaded or cached" in verdict.reason

        finished: list[object] = []
        sink = RenderSink(tmp_path / "heard.wav", subtype="float32")
        engine = Engine(sink, lambda event: finished.append(event) if isinstance(event, QueueFinished) else None)
        engine.set_queue([QueueItem(str(m.file_id), lambda m=m: parts.store.open(m), m.frames) for m in manifests])
        engine.play()
        try:
            wait_until(lambda: bool(finished), "the album to play to the end")
        finally:
            engine.close()
        heard, _ = read_wav(tmp_path / "heard.wav")
        assert len(heard) == sum(m.frames for m in manifests)  # end to end, not a frame of gap
        np.testing.assert_allclose(heard, expected, atol=1e-6)
    finally:
        parts.close()
