"""Metadata ahead of the click, counted on a real server's request log (LEGATO_REQUEST_LOG): a play of a row whose
metadata was fetched ahead asks for audio alone, and a cold play asks once (manifest, licence and the opening
audio in one POST /manifests) before its first sound.

The store's read-ahead is off here (read_ahead_chunks=0) and only requests answered before the first frames reached
the sink are counted (the engine decodes on ahead, asking for the file's next range), so every request counted is
one the play waited on."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cache import ContentStore, MasterKey
from client import catalog
from client.api import ApiClient
from client.catalog import Track
from client.playback.controller import PlaybackController
from client.playback.metadata_ahead import MAX_WAVEFORM_CHARS, waveform_levels
from player import RenderSink
from tests.helpers.edge_cache import OriginRequest, origin_requests
from tests.helpers.own_server import own_server

ADVANCE_FRAMES = 1024
TIMEOUT_MS = 30_000
METADATA = ("/manifests", "/tracks/", "/licences/")


@pytest.fixture(scope="module")
def logged_server(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("ahead")
    log = folder / "requests.log"
    with own_server(demo_data, folder, {"LEGATO_REQUEST_LOG": str(log)}) as server:
        assert server.url is not None
        yield server.url, log


@pytest.fixture
def playback(logged_server: tuple[str, Path], tmp_path: Path) -> Iterator[tuple[PlaybackController, RenderSink]]:
    url, _ = logged_server
    api = ApiClient(url)
    api.login("alice", "alice-pw")
    store = ContentStore(tmp_path / "cache", api, api, MasterKey(os.urandom(32)), read_ahead_chunks=0)
    sink = RenderSink(tmp_path / "heard.wav", manual=True)
    controller = PlaybackController(api, sink, store)
    yield controller, sink
    controller.close()
    api.close()


def _album(url: str, album_id: int) -> list[Track]:
    api = ApiClient(url)
    try:
        api.login("alice", "alice-pw")
        return list(catalog.album_with_tracks(api.album(album_id)).tracks)
    finally:
        api.close()


def _play_to_first_sound(qtbot: Any, controller: PlaybackController, sink: RenderSink, tracks: list[Track]) -> float:
    """Play ``tracks`` until the first is heard; returns the Unix time its first frames reached the sink.

    The engine decodes on ahead of what the sink has taken, so requests answered after that instant (the next
    range of the file) are ones the play did not wait on."""
    heard: list[Track] = []
    first_frames_at: list[float] = []
    controller.track_changed.connect(heard.append)
    controller.play_context(tracks, 0)

    def sounding() -> bool:
        engine_has_queue = controller.engine.state == "playing"
        if not first_frames_at and engine_has_queue and sink.advance(ADVANCE_FRAMES):
            first_frames_at.append(time.time())
        return bool(first_frames_at and heard)

    qtbot.waitUntil(sounding, timeout=TIMEOUT_MS)
    assert heard[0].id == tracks[0].id
    return first_frames_at[0]


def _played_file(url: str, tracks: list[Track]) -> int:
    """The file a play of the first track streams (the controller's quality, "high")."""
    api = ApiClient(url)
    try:
        api.login("alice", "alice-pw")
        return int(next(f["id"] for f in api.manifest(tracks[0].id)["files"] if f["quality"] == "high"))
    finally:
        api.close()


def _waited_on(log: Path, mark: int, first_frames_at: float) -> list[OriginRequest]:
    """The requests answered after ``mark`` and before the first frames were heard."""
    return [r for r in origin_requests(log)[mark:] if r.at <= first_frames_at]


def test_a_play_of_a_visible_row_asks_for_audio_alone(
        qtbot: Any, logged_server: tuple[str, Path], playback: tuple[PlaybackController, RenderSink]) -> None:
    url, log = logged_server
    controller, sink = playback
    tracks = _album(url, 1)[:5]
    controller.fetch_ahead(tracks)  # what a table does with its visible rows
    qtbot.waitUntil(lambda: all(controller.known_ahead(t.id) for t in tracks), timeout=TIMEOUT_MS)
    mark = len(origin_requests(log))
    asked = _waited_on(log, mark, _play_to_first_sound(qtbot, controller, sink, tracks))
    assert [r for r in asked if r.path.startswith(METADATA)] == []
    played = [r for r in asked if r.path == f"/files/{_played_file(url, tracks)}"]
    assert len(played) <= 1, played


def test_a_cold_play_makes_one_round_trip_before_its_first_sound(
        qtbot: Any, logged_server: tuple[str, Path], playback: tuple[PlaybackController, RenderSink]) -> None:
    url, log = logged_server
    controller, sink = playback
    tracks = _album(url, 1)[:5]
    mark = len(origin_requests(log))
    asked = _waited_on(log, mark, _play_to_first_sound(qtbot, controller, sink, tracks))
    metadata = [r for r in asked if r.path.startswith(METADATA)]
    played = [r for r in asked if r.path == f"/files/{_played_file(url, tracks)}"]
    assert [(r.method, r.path) for r in metadata] == [("POST", "/manifests")]
    assert played == [], "the opening audio came in the manifests' answer"


def test_metadata_ahead_is_forgotten_when_the_quality_changes(
        qtbot: Any, logged_server: tuple[str, Path], playback: tuple[PlaybackController, RenderSink]) -> None:
    url, _ = logged_server
    controller, _ = playback
    tracks = _album(url, 1)[:3]
    controller.fetch_ahead(tracks)
    qtbot.waitUntil(lambda: all(controller.known_ahead(t.id) for t in tracks), timeout=TIMEOUT_MS)
    controller.quality = "low"
    assert not any(controller.known_ahead(t.id) for t in tracks)


def test_a_waveform_that_is_not_what_it_says_is_ignored_not_raised() -> None:
    assert waveform_levels({"waveform": base64.b64encode(bytes(range(160))).decode()}) == bytes(range(160))
    for hostile in ({}, {"waveform": None}, {"waveform": 160}, {"waveform": "not base64!"}, {"waveform": ""},
                    {"waveform": "A" * (MAX_WAVEFORM_CHARS + 4)}, {"waveform": ["AAAA"]}):
        assert waveform_levels(hostile) is None, hostile
