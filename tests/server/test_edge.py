"""Hostile input at the edge of the real server: oversized and endless bodies, deep JSON, huge Range numbers,
lone surrogates. Each answers a clear 4xx, the server holds none of it, and it goes on serving."""

from __future__ import annotations

import json
import select
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from client.bundled import BundledServer
from tests.helpers.own_server import USERS, own_server, peak_rss_bytes, server_pid
from tests.helpers.server_api import assert_error

STREAMED_BYTES = 40 * 1024 * 1024


@pytest.fixture(scope="module")
def server(module_database: str, demo_data: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundledServer]:
    """The module's server, one per engine (so it depends on ``module_database``)."""
    with own_server(demo_data, tmp_path_factory.mktemp("edge")) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: BundledServer) -> Iterator[httpx.Client]:
    assert server.url is not None
    with httpx.Client(base_url=server.url, timeout=30) as session:
        token = session.post("/auth/login", json={"username": "alice", "password": USERS["alice"][0]}).json()
        session.headers["Authorization"] = f"Bearer {token['token']}"
        yield session


@pytest.fixture()
def playlist(client: httpx.Client) -> str:
    playlist_id = str(uuid.uuid4())
    assert client.post("/playlists", json={"id": playlist_id}).status_code == 201
    return playlist_id


def stream_until_answered(url: str, path: str, total_bytes: int, chunked: bool) -> tuple[bytes, bool]:
    """POST up to ``total_bytes`` to ``path`` as fast as the server takes them, stopping once it answers.

    Returns the raw answer and whether the server closed the connection after it.
    """
    address = urlsplit(url)
    assert address.hostname is not None and address.port is not None
    head = f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {total_bytes}\r\n\r\n"
    piece = b"[" + b"0," * 32767 + b"0"
    framed = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
    answer, sent, closed = b"", 0, False
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(head.encode())
        connection.setblocking(False)
        while b"\r\n\r\n" not in answer:
            readable, writable, _ = select.select([connection], [connection] if sent < total_bytes else [], [], 30)
            assert readable or writable, "the server neither read the body nor answered"
            if readable:
                data = connection.recv(65536)
                if not data:
                    break
                answer += data
            elif writable:
                try:
                    sent += connection.send(framed)
                except (BrokenPipeError, ConnectionResetError):
                    break
        connection.setblocking(True)
        try:
            while data := connection.recv(65536):
                answer += data
            closed = True
        except ConnectionResetError:
            closed = True
        except TimeoutError:
            closed = False
    return answer, closed


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_endless_login_body_is_refused_without_the_server_holding_it(server: BundledServer,
                                                                        chunked: bool) -> None:
    assert server.url is not None
    pid = server_pid(server)
    # A first refused body, small, so what the server allocates once for its first refusal is not counted below
    # (CI once saw 5.9 MB of peak growth on the first stream of a fresh server, never since on the second).
    stream_until_answered(server.url, "/auth/login", STREAMED_BYTES // 40, chunked)
    before = peak_rss_bytes(pid)
    answer, closed = stream_until_answered(server.url, "/auth/login", STREAMED_BYTES, chunked)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), answer[:300]
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    assert b"4096 bytes" in body
    assert closed, "the server kept the connection of a refused body open"
    grown = peak_rss_bytes(pid) - before
    assert grown < STREAMED_BYTES // 8, f"the server's peak memory grew by {grown} bytes"
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}


def test_a_body_declared_too_large_is_a_json_413_before_the_handler_runs(client: httpx.Client,
                                                                         playlist: str) -> None:
    big = b" " * (70 * 1024)
    for method, path in (("GET", "/health"), ("POST", "/playlists"), ("POST", "/auth/logout"),
                         ("DELETE", f"/playlists/{playlist}")):
        response = client.request(method, path, content=big, headers={"Content-Type": "application/json"})
        error = assert_error(response, 413, "payload_too_large")
        assert "bytes" in error["message"]
        assert response.headers["connection"] == "close"
    # Refused means not done: the session and the playlist are still there.
    assert client.get("/me").status_code == 200
    assert client.get(f"/playlists/{playlist}").status_code == 200


def test_a_push_nested_a_thousand_deep_is_422(client: httpx.Client, playlist: str) -> None:
    deep = "[" * 1000 + "]" * 1000
    response = client.post(f"/playlists/{playlist}/updates", content=deep,
                           headers={"Content-Type": "application/json"})
    assert "32 levels" in assert_error(response, 422, "json_too_deep")["message"]
    login = client.post("/auth/login", content='{"username": ' + deep + "}",
                        headers={"Content-Type": "application/json"})
    assert_error(login, 422, "json_too_deep")
    assert client.get(f"/playlists/{playlist}").status_code == 200


def test_deep_brackets_inside_a_string_are_only_text(client: httpx.Client) -> None:
    response = client.post("/auth/login", json={"username": "[" * 200, "password": "{\\\"[" * 200})
    assert_error(response, 401, "invalid_credentials")


def test_a_lone_surrogate_update_id_is_422(client: httpx.Client, playlist: str) -> None:
    body = '{"updates": [{"update_id": "\\ud800", "data": "AAAA"}]}'
    response = client.post(f"/playlists/{playlist}/updates", content=body,
                           headers={"Content-Type": "application/json"})
    assert "surrogate" in assert_error(response, 422, "malformed_push")["message"]
    pulled = client.get(f"/playlists/{playlist}/updates").json()
    assert pulled["updates"] == [] and pulled["last_seq"] == 0


def test_lone_surrogates_in_json_fields_are_422(client: httpx.Client, playlist: str) -> None:
    for path, body in (("/auth/login", '{"username": "\\udc00", "password": "x"}'),
                       (f"/playlists/{playlist}/collaborators", '{"user": "bo\\ud83db"}')):
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert_error(response, 422, "invalid_request")


@pytest.fixture(scope="module")
def file_url(client: httpx.Client) -> tuple[str, int]:
    track = client.get("/tracks", params={"limit": 1}).json()["tracks"][0]
    file = client.get(f"/tracks/{track['id']}/manifest").json()["files"][0]
    return str(file["url"]), int(file["size_bytes"])


def test_a_range_starting_thousands_of_digits_in_is_416(client: httpx.Client, file_url: tuple[str, int]) -> None:
    url, size = file_url
    response = client.get(url, headers={"Range": f"bytes={'9' * 4300}-"})
    assert_error(response, 416, "range_not_satisfiable")
    assert response.headers["content-range"] == f"bytes */{size}"
    assert len(response.json()["error"]["message"]) < 300


@pytest.mark.parametrize("header", [f"bytes=0-{'9' * 4300}", f"bytes=-{'9' * 4300}"], ids=["last", "suffix"])
def test_a_range_ending_thousands_of_digits_out_is_the_whole_file(client: httpx.Client,
                                                                  file_url: tuple[str, int], header: str) -> None:
    url, size = file_url
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
    assert len(response.content) == size


def test_a_wrong_method_names_every_method_of_the_path(client: httpx.Client) -> None:
    response = client.request("OPTIONS", "/playlists")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"
    assert client.put("/playlists/some-id").headers["allow"] == "DELETE, GET, PATCH"
