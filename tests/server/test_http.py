"""The HTTP API of the real server on the demo catalog (``demo_server``), on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from server.database import DATABASE_ENV, is_postgresql
from tests.helpers.own_server import DemoServer
from tests.helpers.server_api import assert_error
from tests.helpers.server_sources import RunningServer

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def client(demo_server: RunningServer, demo_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.url, headers={"Authorization": f"Bearer {demo_token}"},
                      timeout=30) as session:
        yield session


@pytest.fixture(scope="module")
def anonymous(demo_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.url, timeout=30) as session:
        yield session


@pytest.fixture(scope="module")
def first_file(client: httpx.Client) -> dict[str, Any]:
    album = client.get("/albums").json()["albums"][0]
    track = client.get(f"/albums/{album['id']}").json()["tracks"][0]
    manifest = client.get(f"/tracks/{track['id']}/manifest").json()
    return dict(max(manifest["files"], key=lambda file: file["size_bytes"]))


def test_health_needs_no_token(anonymous: httpx.Client) -> None:
    assert anonymous.get("/health").json() == {"status": "ok"}


def test_login_with_good_credentials_returns_a_working_token(anonymous: httpx.Client,
                                                             demo_login: tuple[str, str]) -> None:
    response = anonymous.post("/auth/login", json={"username": demo_login[0], "password": demo_login[1]})
    body = response.json()
    assert body["user"]["name"] == "demo" and body["user"]["region"] == "GB"
    me = anonymous.get("/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json() == body["user"]


def test_login_with_a_wrong_password_or_unknown_user_is_401(anonymous: httpx.Client) -> None:
    assert_error(anonymous.post("/auth/login", json={"username": "demo", "password": "nope"}),
                 401, "invalid_credentials")
    assert_error(anonymous.post("/auth/login", json={"username": "nobody", "password": "demo"}),
                 401, "invalid_credentials")


def test_logout_revokes_the_token(anonymous: httpx.Client, demo_login: tuple[str, str]) -> None:
    username, password = demo_login
    token = anonymous.post("/auth/login", json={"username": username, "password": password}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert anonymous.post("/auth/logout", headers=headers).status_code == 204
    assert_error(anonymous.get("/me", headers=headers), 401, "invalid_token")


@pytest.mark.parametrize("path", ["/me", "/albums", "/artists", "/tracks", "/tracks/1", "/tracks/1/manifest",
                                  "/licences/1", "/search?q=a"])
def test_every_catalog_endpoint_needs_a_valid_token(anonymous: httpx.Client, path: str) -> None:
    assert_error(anonymous.get(path), 401, "unauthenticated")
    assert_error(anonymous.get(path, headers={"Authorization": "Bearer not-a-token"}), 401, "invalid_token")


def test_malformed_json_gets_a_json_error(anonymous: httpx.Client) -> None:
    response = anonymous.post("/auth/login", content=b'{"username": "demo", "pass',
                              headers={"Content-Type": "application/json"})
    assert_error(response, 400, "malformed_json")
    assert_error(anonymous.post("/auth/login", json={"username": "demo"}), 422, "invalid_request")


@pytest.mark.parametrize("path", ["/tracks/999999", "/albums/999999", "/artists/999999",
                                  "/tracks/999999/manifest", "/licences/999999", "/files/999999", "/no/such/route"])
def test_unknown_ids_and_routes_are_404_json(client: httpx.Client, path: str) -> None:
    assert_error(client.get(path), 404, "not_found")


@pytest.mark.parametrize("path", ["/tracks/abc", "/albums/-1", "/files/99999999999999999999999",
                                  "/tracks?limit=0", "/tracks?offset=-5", "/search?q="])
def test_malformed_ids_and_parameters_are_422_json(client: httpx.Client, path: str) -> None:
    assert_error(client.get(path), 422, "invalid_request")


def test_albums_list_the_demo_catalog_with_a_gapless_live_set(client: httpx.Client) -> None:
    albums = client.get("/albums").json()["albums"]
    assert len(albums) >= 2
    assert sum(album["gapless"] for album in albums) >= 1
    detail = client.get(f"/albums/{albums[0]['id']}").json()
    order = [(track["disc_no"], track["track_no"]) for track in detail["tracks"]]
    assert order == sorted(order) and len(order) == detail["track_count"] >= 3
    assert detail["duration_s"] == pytest.approx(sum(track["duration_s"] for track in detail["tracks"]))


def test_artist_detail_lists_its_albums(client: httpx.Client) -> None:
    artist = client.get("/artists").json()["artists"][0]
    detail = client.get(f"/artists/{artist['id']}").json()
    assert detail["name"] == artist["name"]
    assert len(detail["albums"]) == artist["album_count"] >= 1


def test_tracks_are_paged_with_a_total(client: httpx.Client) -> None:
    everything = client.get("/tracks", params={"limit": 500}).json()
    page = client.get("/tracks", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == everything["total"] == len(everything["tracks"])
    assert page["tracks"] == everything["tracks"][1:3]
    track = client.get(f"/tracks/{page['tracks'][0]['id']}").json()
    assert track == page["tracks"][0]
    assert 0 <= track["popularity"] <= 100 and "GB" in track["regions"]


def test_search_finds_a_case_insensitive_word_start(client: httpx.Client) -> None:
    track = client.get("/tracks", params={"limit": 1}).json()["tracks"][0]
    album = client.get("/albums").json()["albums"][0]
    needle = track["title"].split()[-1][:4].swapcase()
    found = client.get("/search", params={"q": needle}).json()
    assert track["id"] in [t["id"] for t in found["tracks"]]
    by_album = client.get("/search", params={"q": album["title"].split()[0][:5].upper()}).json()
    assert album["id"] in [a["id"] for a in by_album["albums"]]
    assert client.get("/search", params={"q": "zzqqxx-no-such-thing"}).json() == {
        "top": None, "tracks": [], "albums": [], "artists": []}


def test_manifest_describes_four_encrypted_files(client: httpx.Client) -> None:
    track = client.get("/tracks", params={"limit": 1}).json()["tracks"][0]
    manifest = client.get(f"/tracks/{track['id']}/manifest").json()
    assert manifest["duration_samples"] == track["duration_samples"]
    assert {file["quality"] for file in manifest["files"]} == {"lossless", "high", "normal", "low"}
    for file in manifest["files"]:
        assert file["encryption"] == "aes-128-ctr" and file["url"] == f"/files/{file['id']}"
        assert len(file["chunks"]) == -(-file["size_bytes"] // file["chunk_size"])
        assert "key" not in file and "nonce" not in file


def test_files_are_public_cacheable_and_tagged(anonymous: httpx.Client, first_file: dict[str, Any]) -> None:
    response = anonymous.get(first_file["url"])
    assert response.status_code == 200
    assert len(response.content) == first_file["size_bytes"]
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["accept-ranges"] == "bytes"
    etag = response.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = anonymous.get(first_file["url"], headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = anonymous.get(first_file["url"], headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


@pytest.mark.parametrize(("header", "start", "stop"), [
    ("bytes=0-99", 0, 100),
    ("bytes=70000-70999", 70000, 71000),
    ("bytes=-500", -500, None),
    ("bytes=100000-", 100000, None),
])
def test_range_requests_return_exactly_the_bytes_asked(anonymous: httpx.Client, first_file: dict[str, Any],
                                                       header: str, start: int, stop: int | None) -> None:
    whole = anonymous.get(first_file["url"]).content
    response = anonymous.get(first_file["url"], headers={"Range": header})
    expected = whole[start:stop]
    first = start % len(whole)
    assert response.status_code == 206
    assert response.content == expected
    assert response.headers["content-range"] == f"bytes {first}-{first + len(expected) - 1}/{len(whole)}"
    assert response.headers["etag"] and response.headers["cache-control"] == IMMUTABLE


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=-0"])
def test_unsatisfiable_range_is_416_with_the_size(anonymous: httpx.Client, first_file: dict[str, Any],
                                                   header: str) -> None:
    response = anonymous.get(first_file["url"], headers={"Range": header})
    assert_error(response, 416, "range_not_satisfiable")
    assert response.headers["content-range"] == f"bytes */{first_file['size_bytes']}"


def test_licence_gives_the_key_to_a_user_in_the_tracks_region(client: httpx.Client,
                                                             first_file: dict[str, Any]) -> None:
    licence = client.get(f"/licences/{first_file['id']}").json()
    assert licence["file_id"] == first_file["id"] and licence["algorithm"] == "aes-128-ctr"
    assert len(bytes.fromhex(licence["key"])) == 16 and len(bytes.fromhex(licence["nonce"])) == 16


def test_licence_is_403_for_a_user_in_another_region(demo_server: DemoServer, anonymous: httpx.Client,
                                                     first_file: dict[str, Any]) -> None:
    name = f"visitor-{secrets.token_hex(4)}"
    environ = {key: value for key, value in os.environ.items() if key != DATABASE_ENV}
    if is_postgresql(demo_server.database):  # user add writes where the server reads
        environ[DATABASE_ENV] = demo_server.database.render_as_string(hide_password=False)
    subprocess.run([sys.executable, "-m", "server", "user", "add", name, "--data", str(demo_server.data_dir),
                    "--password", "pw", "--region", "JP"], check=True, capture_output=True, env=environ)
    token = anonymous.post("/auth/login", json={"username": name, "password": "pw"}).json()["token"]
    response = anonymous.get(f"/licences/{first_file['id']}", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 403, "not_available_in_region")
    assert "JP" in response.json()["error"]["message"]


def test_openapi_schema_lists_the_endpoints(anonymous: httpx.Client) -> None:
    paths = anonymous.get("/openapi.json").json()["paths"]
    assert {"/auth/login", "/albums/{album_id}", "/tracks/{track_id}/manifest", "/files/{file_id}",
            "/licences/{file_id}", "/search"} <= set(paths)


def test_search_forgives_a_typo_and_ranks_the_exact_hit_first(client: httpx.Client) -> None:
    track = max(client.get("/tracks", params={"limit": 500}).json()["tracks"], key=lambda t: len(t["title"]))
    word = max(track["title"].split(), key=len)
    typo = word[:2] + word[3:] if len(word) > 4 else word + "x"
    found = client.get("/search", params={"q": typo}).json()
    assert track["id"] in [t["id"] for t in found["tracks"]]
    exact = client.get("/search", params={"q": track["title"]}).json()
    assert exact["tracks"][0]["id"] == track["id"]


def test_openapi_documents_every_body_and_every_error_status(anonymous: httpx.Client) -> None:
    schema = anonymous.get("/openapi.json").json()
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            responses = operation["responses"]
            for status, response in responses.items():
                if status.startswith("4"):
                    assert response["content"]["application/json"]["schema"] == error_body, where
            if "security" in operation:
                assert "401" in responses, where
            if operation.get("parameters") or "requestBody" in operation:
                assert "422" in responses, where
            if "requestBody" in operation:
                assert {"400", "413"} <= set(responses), where
    push = schema["paths"]["/playlists/{playlist_id}/updates"]["post"]
    body = push["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["updates"] and body["properties"]["updates"]["items"]["required"] == [
        "update_id", "data"]
    assert {"403", "404", "409"} <= set(push["responses"])
    login = schema["paths"]["/auth/login"]["post"]["responses"]
    assert "Retry-After" in login["429"]["headers"]
    assert {"206", "304", "416"} <= set(schema["paths"]["/files/{file_id}"]["get"]["responses"])
