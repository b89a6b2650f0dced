"""The API client's side of downloads: 429/503 become ServerBusy with the Retry-After the server sent, and the
offline licence carries its validity. The busy server is a tiny real HTTP server: the reference server is never
overloaded on cue."""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cache import FileManifest
from client.api import ApiClient
from offline import ServerBusy

ANSWERS = {"/files/1": (503, "7"), "/files/2": (429, None), "/files/3": (429, "junk")}


class BusyHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, retry_after = ANSWERS.get(self.path, (429, None))
        if self.path == "/files/4":
            retry_after = email.utils.formatdate(time.time() + 60, usegmt=True)
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def busy_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BusyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def manifest(file_id: int) -> FileManifest:
    return FileManifest.from_json({"id": file_id, "quality": "high", "codec": "aac", "url": f"/files/{file_id}",
                                   "size_bytes": 16, "chunk_size": 16, "chunks": ["0" * 64], "frames": 1,
                                   "sample_rate": 48000})


@pytest.mark.parametrize(("file_id", "expected_s"), [(1, 7.0), (2, None), (3, None), (4, 60.0)],
                         ids=["503-seconds", "429-none", "429-junk", "429-http-date"])
def test_busy_answers_raise_server_busy_with_the_retry_after_sent(
        busy_server: str, file_id: int, expected_s: float | None) -> None:
    api = ApiClient(busy_server)
    try:
        with pytest.raises(ServerBusy) as caught:
            api.fetch(manifest(file_id), 0, 16)
    finally:
        api.close()
    if expected_s is None:
        assert caught.value.retry_after_s is None
    else:
        assert caught.value.retry_after_s == pytest.approx(expected_s, abs=2)
    assert isinstance(caught.value, OSError)  # callers that only know OSError still retry it


def test_offline_licence_opens_the_file_like_the_streaming_licence(live_server: Any, api_token: str) -> None:
    api = ApiClient(live_server.url, api_token)
    try:
        album = api.albums()[0]
        track = api.album(int(album["id"]))["tracks"][0]
        file_id = int(api.manifest(int(track["id"]))["files"][0]["id"])
        offline = api.offline_licence(file_id)
        assert offline.key == api.licence(file_id)
        assert offline.valid_s == 30 * 86400.0
        api.health()
    finally:
        api.close()
