"""The API client's side of downloads: 429/503 become ServerBusy with the Retry-After the server sent, any other
answer than the range asked for is RangeRefused, a connection lost (before or mid-answer) is ServerUnreachable, and
the offline licence carries its validity. The misbehaving server is a tiny real HTTP server: the reference server is
never overloaded or broken on cue."""

from __future__ import annotations

import email.utils
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cache import FileManifest
from client.api import ApiClient, ServerUnreachable
from offline import RangeRefused, ServerBusy

ANSWERS = {"/files/1": (503, "7"), "/files/2": (429, None), "/files/3": (429, "junk")}


BODY = bytes(range(16))
# path: (status, Content-Range, body bytes sent of the 16 the headers promise)
ODD_ANSWERS = {"/files/5": (404, None, 16), "/files/6": (200, None, 16), "/files/7": (500, None, 16),
               "/files/8": (206, "bytes 4-19/32", 16), "/files/9": (206, "bytes 0-15/16", 8),
               "/files/10": (206, "bytes 0-15/16", 16)}


class BusyHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path in ODD_ANSWERS:
            self._answer_oddly(*ODD_ANSWERS[self.path])
            return
        status, retry_after = ANSWERS.get(self.path, (429, None))
        if self.path == "/files/4":
            retry_after = email.utils.formatdate(time.time() + 60, usegmt=True)
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _answer_oddly(self, status: int, content_range: str | None, sent: int) -> None:
        self.send_response(status)
        if content_range is not None:
            self.send_header("Content-Range", content_range)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY[:sent])
        self.wfile.flush()
        self.close_connection = True  # a short body ends with the connection, as a dropped one would

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


@pytest.mark.parametrize(("file_id", "status", "permanent"), [(5, 404, True), (6, 200, True), (7, 500, False),
                                                             (8, 206, True)],
                         ids=["not-found", "whole-file", "server-error", "another-range"])
def test_answers_other_than_the_range_raise_range_refused_with_their_status(
        busy_server: str, file_id: int, status: int, permanent: bool) -> None:
    api = ApiClient(busy_server)
    try:
        with pytest.raises(RangeRefused) as caught:
            api.fetch(manifest(file_id), 0, 16)
    finally:
        api.close()
    assert caught.value.status == status and caught.value.permanent == permanent
    assert f"/files/{file_id}" in str(caught.value)
    assert isinstance(caught.value, OSError)  # the cache's ChunkFetcher contract: a failed fetch is an OSError


def test_the_range_asked_for_streams_and_a_connection_lost_is_server_unreachable(busy_server: str) -> None:
    api = ApiClient(busy_server)
    try:
        with api.open_range(manifest(10), 0, 16) as body:
            assert b"".join(body.pieces()) == BODY
        with pytest.raises(ServerUnreachable, match="broke while receiving"), \
                api.open_range(manifest(9), 0, 16) as body:
            b"".join(body.pieces())
    finally:
        api.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    gone = ApiClient(f"http://127.0.0.1:{closed_port}")
    try:
        with pytest.raises(ServerUnreachable, match="cannot reach"):
            gone.fetch(manifest(10), 0, 16)
    finally:
        gone.close()


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
