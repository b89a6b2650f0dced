"""Downloads from an origin that sheds load: the real server answers 503 + Retry-After past its file-request
limit, and the downloader waits each one out (with jitter) and completes every file intact."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cache import MasterKey
from client.api import ApiClient
from client.bundled import BundledServer
from offline import PinKey
from tests.helpers.offline_harness import WAIT_S, RecordingSource, album_tracks, disk_matches, make_parts
from tests.helpers.own_server import own_server


@pytest.fixture(scope="module")
def shedding_server(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundledServer]:
    environ = {"LEGATO_ADMIT_FILES_RATE": "4", "LEGATO_ADMIT_FILES_BURST": "2"}
    with own_server(demo_data, tmp_path_factory.mktemp("shedding"), environ) as server:
        yield server


def test_the_downloader_backs_off_503s_and_completes(
        tmp_path: Path, shedding_server: BundledServer, make_api: Callable[[Any], ApiClient],
        master_key: MasterKey) -> None:
    api = make_api(shedding_server)
    source = RecordingSource(api, quality="lossless")
    parts = make_parts(tmp_path, api, source, master_key, concurrency=2, request_bytes=64 * 1024)
    try:
        _, tracks = album_tracks(api)
        parts.downloader.pin(PinKey("album", "1"), "Album", tracks[:2])
        assert parts.downloader.wait_idle(WAIT_S * 2)
        for track in tracks[:2]:
            assert parts.downloader.queue.item(track.track_id).state == "done"
            assert disk_matches(tmp_path / "cache", source.manifest(track.track_id))
    finally:
        parts.close()
    shed = [fetch for fetch in source.fetches if not fetch.ok]
    assert shed, "the server never shed a request: the limit is too loose to test anything"
