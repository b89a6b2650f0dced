"""One answer for "not yours" and "doesn't exist": what another user keeps private looks exactly like nothing.

(POST /playlists, where a client picks the id, is the one endpoint that must tell a taken id apart.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from client.bundled import BundledServer
from tests.helpers.own_server import USERS, own_server

PUSH = {"updates": [{"update_id": "u1", "data": "AAAA"}]}
PLAYLIST_CALLS = [("GET", "/playlists/{id}", None), ("PATCH", "/playlists/{id}", {"public": True}),
                  ("DELETE", "/playlists/{id}", None), ("POST", "/playlists/{id}/collaborators", {"user": "bob"}),
                  ("POST", "/playlists/{id}/followers", None), ("DELETE", "/playlists/{id}/followers", None),
                  ("GET", "/playlists/{id}/updates", None), ("POST", "/playlists/{id}/updates", PUSH),
                  ("GET", "/playlists/{id}/events", None)]


@pytest.fixture(scope="module")
def server(module_database: str, demo_data: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundledServer]:
    """The module's server, one per engine (so it depends on ``module_database``)."""
    with own_server(demo_data, tmp_path_factory.mktemp("existence")) as running:
        yield running


@contextmanager
def session(server: BundledServer, name: str) -> Iterator[httpx.Client]:
    assert server.url is not None
    with httpx.Client(base_url=server.url, timeout=30) as client:
        token = client.post("/auth/login", json={"username": name, "password": USERS[name][0]}).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


@pytest.fixture(scope="module")
def alice(server: BundledServer) -> Iterator[httpx.Client]:
    with session(server, "alice") as client:
        yield client


@pytest.fixture(scope="module")
def bob(server: BundledServer) -> Iterator[httpx.Client]:
    with session(server, "bob") as client:
        yield client


def answer(response: httpx.Response, playlist_id: str) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"].replace(playlist_id, "<id>")


@pytest.mark.parametrize(("method", "path", "body"), PLAYLIST_CALLS, ids=[f"{m} {p}" for m, p, _ in PLAYLIST_CALLS])
def test_another_users_private_playlist_answers_like_one_that_does_not_exist(
        alice: httpx.Client, bob: httpx.Client, method: str, path: str, body: object) -> None:
    private, missing = str(uuid.uuid4()), str(uuid.uuid4())
    assert alice.post("/playlists", json={"id": private}).status_code == 201
    mine = bob.request(method, path.format(id=private), json=body)
    nothing = bob.request(method, path.format(id=missing), json=body)
    assert answer(mine, private) == answer(nothing, missing)
    assert mine.status_code == 404
    assert alice.get(f"/playlists/{private}").status_code == 200  # and bob changed nothing


def test_a_revoked_token_answers_like_one_never_issued(server: BundledServer) -> None:
    with session(server, "bob") as client:
        assert client.post("/auth/logout").status_code == 204
        revoked = client.get("/me")
        client.headers["Authorization"] = "Bearer " + "x" * 43
        never = client.get("/me")
    assert revoked.status_code == never.status_code == 401
    assert revoked.json() == never.json()


def test_a_wrong_password_answers_like_an_unknown_name(server: BundledServer) -> None:
    url = f"{server.url}/auth/login"
    wrong = httpx.post(url, json={"username": "alice", "password": "nope"}, timeout=30)
    unknown = httpx.post(url, json={"username": "no-one", "password": "nope"}, timeout=30)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_an_album_without_a_cover_answers_like_no_album(alice: httpx.Client) -> None:
    albums = alice.get("/albums").json()["albums"]
    missing = alice.get(f"/albums/{max(album['id'] for album in albums) + 1000}/cover")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    for album in albums:
        if not album["has_cover"]:
            bare = alice.get(f"/albums/{album['id']}/cover")
            assert (bare.status_code, bare.json()["error"]["code"]) == (404, "not_found")
