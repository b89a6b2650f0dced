"""The playlist endpoints of the real server: permissions, validation, idempotency, compaction and live events."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import httpx

from client.bundled import BundledServer
from server import playlists
from server.auth import create_user
from server.catalog import Catalog
from sync import PlaylistDoc, PullResult
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.server_api import assert_error, edit, new_playlist, push

pytestmark = ON_BOTH_ENGINES


def start_server(data_dir: Path) -> BundledServer:
    """The real server on a loopback port (tests/conftest.py's start_server is not importable from here)."""
    server = BundledServer(data_dir)
    server.start()
    return server


def stop_server(server: BundledServer) -> None:
    server.stop()


def pulled(client: httpx.Client, playlist_id: str, since: int = 0) -> PullResult:
    response = client.get(f"/playlists/{playlist_id}/updates", params={"since": since})
    assert response.status_code == 200, response.text
    return PullResult.from_json(response.json())


def test_pushed_updates_are_numbered_and_a_retry_is_stored_once(clients: dict[str, httpx.Client]) -> None:
    alice = clients["alice"]
    playlist_id, doc = new_playlist(alice)
    first, second = edit(doc, 1), edit(doc, 2)
    assert push(alice, playlist_id, first, second, ids=["a", "b"]).json() == {"seqs": [1, 2], "last_seq": 2}
    assert push(alice, playlist_id, second, ids=["b"]).json() == {"seqs": [2], "last_seq": 2}
    log = pulled(alice, playlist_id)
    assert [update.seq for update in log.updates] == [1, 2] and log.last_seq == 2
    assert [update.seq for update in pulled(alice, playlist_id, since=1).updates] == [2]
    assert PlaylistDoc.from_updates(playlist_id, log.blobs()).state() == doc.state()


def test_a_long_log_is_compacted_and_since_answers_stay_right(clients: dict[str, httpx.Client]) -> None:
    alice = clients["alice"]
    playlist_id, doc = new_playlist(alice)
    updates = [edit(doc, track) for track in range(1, playlists.COMPACT_AFTER_UPDATES + 11)]
    assert push(alice, playlist_id, *updates).status_code == 200
    assert push(alice, playlist_id, edit(doc, 999)).json()["last_seq"] == len(updates) + 1
    from_start = pulled(alice, playlist_id)
    assert from_start.snapshot is not None and from_start.snapshot_seq >= playlists.COMPACT_AFTER_UPDATES
    assert PlaylistDoc.from_updates(playlist_id, from_start.blobs()).state() == doc.state()
    recent = pulled(alice, playlist_id, since=len(updates))
    assert recent.snapshot is None and [update.seq for update in recent.updates] == [len(updates) + 1]
    assert push(alice, playlist_id, updates[0], ids=["first-again"]).json()["last_seq"] == len(updates) + 2


def test_collaborators_write_followers_read_and_strangers_see_nothing(clients: dict[str, httpx.Client]) -> None:
    alice, bob, carol = clients["alice"], clients["bob"], clients["carol"]
    playlist_id, doc = new_playlist(alice)
    assert_error(bob.get(f"/playlists/{playlist_id}/updates"), 404, "not_found")
    assert_error(carol.post(f"/playlists/{playlist_id}/followers"), 404, "not_found")
    assert_error(alice.post(f"/playlists/{playlist_id}/collaborators", json={"user": "nobody"}), 404, "unknown_user")
    invited = alice.post(f"/playlists/{playlist_id}/collaborators", json={"user": "bob"})
    assert invited.json()["collaborators"] == ["bob"]
    assert push(bob, playlist_id, edit(doc, 3, by="bob")).status_code == 200
    assert_error(bob.delete(f"/playlists/{playlist_id}"), 403, "not_owner")
    assert alice.patch(f"/playlists/{playlist_id}", json={"public": True}).status_code == 200
    assert carol.post(f"/playlists/{playlist_id}/followers").status_code == 200
    assert {item["id"]: item["role"] for item in carol.get("/playlists").json()["playlists"]}[playlist_id] == "follower"
    assert len(pulled(carol, playlist_id).updates) == 1
    before = pulled(alice, playlist_id).last_seq
    assert_error(push(carol, playlist_id, edit(doc, 4, by="carol")), 403, "read_only")
    assert pulled(alice, playlist_id).last_seq == before
    assert alice.patch(f"/playlists/{playlist_id}", json={"public": False}).status_code == 200
    assert_error(carol.get(f"/playlists/{playlist_id}/updates"), 404, "not_found")
    assert alice.delete(f"/playlists/{playlist_id}").status_code == 204
    assert_error(bob.get(f"/playlists/{playlist_id}"), 404, "not_found")


def test_bad_updates_get_a_clear_4xx_and_nothing_is_stored(clients: dict[str, httpx.Client]) -> None:
    alice = clients["alice"]
    playlist_id, doc = new_playlist(alice)
    assert push(alice, playlist_id, edit(doc, 1)).status_code == 200
    _other_id, other = new_playlist(alice)
    other_version = other.version()
    other.add(5, "alice")
    assert_error(push(alice, playlist_id, b"garbage"), 422, "malformed_update")
    assert_error(push(alice, playlist_id, b"\0" * 300_000), 413, "update_too_large")
    assert_error(push(alice, playlist_id, other.export_since(None)), 422, "foreign_update")
    assert_error(push(alice, playlist_id, other.export_since(other_version)), 409, "missing_dependencies")
    assert_error(push(alice, playlist_id, edit(doc, 2), b"garbage"), 422, "malformed_update")  # all or none
    assert_error(alice.post(f"/playlists/{playlist_id}/updates", json={"updates": "no"}), 422, "malformed_push")
    assert_error(alice.post(f"/playlists/{playlist_id}/updates", content=b"{", headers={
        "Content-Type": "application/json"}), 400, "malformed_json")
    assert pulled(alice, playlist_id).last_seq == 1


def test_every_playlist_endpoint_needs_a_valid_token(playlist_server: BundledServer) -> None:
    playlist_id = str(uuid.uuid4())
    for method, path in [("GET", "/playlists"), ("POST", f"/playlists/{playlist_id}/updates"),
                         ("GET", f"/playlists/{playlist_id}/updates"), ("GET", f"/playlists/{playlist_id}/events")]:
        response = httpx.request(method, f"{playlist_server.url}{path}", headers={"Authorization": "Bearer forged"})
        assert_error(response, 401, "invalid_token")


def test_a_collaborators_push_reaches_an_open_event_stream(clients: dict[str, httpx.Client]) -> None:
    alice, bob = clients["alice"], clients["bob"]
    playlist_id, doc = new_playlist(alice)
    alice.post(f"/playlists/{playlist_id}/collaborators", json={"user": "bob"})
    events: list[str] = []
    connected, arrived = threading.Event(), threading.Event()

    def listen() -> None:
        with alice.stream("GET", f"/playlists/{playlist_id}/events", params={"since": 0}) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    events.append(line)
                    (arrived if len(events) > 1 else connected).set()
                    if len(events) > 1:
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert connected.wait(10)
    assert push(bob, playlist_id, edit(doc, 7, by="bob")).status_code == 200
    assert arrived.wait(10)
    assert '"seq":1' in events[1]
    listener.join(10)


def test_the_log_survives_a_restart(tmp_path: Path) -> None:
    catalog = Catalog.open(tmp_path)
    create_user(catalog, "dora", "pw", "GB")
    catalog.close()
    running = start_server(tmp_path)
    login = {"username": "dora", "password": "pw"}
    try:
        token = httpx.post(f"{running.url}/auth/login", json=login).json()["token"]
        client = httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {token}"})
        playlist_id, doc = new_playlist(client)
        assert push(client, playlist_id, edit(doc, 1, by="dora"), edit(doc, 2, by="dora")).status_code == 200
        client.close()
    finally:
        stop_server(running)
    running = start_server(tmp_path)
    try:
        token = httpx.post(f"{running.url}/auth/login", json=login).json()["token"]
        with httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {token}"}) as client:
            log = pulled(client, playlist_id)
            assert PlaylistDoc.from_updates(playlist_id, log.blobs()).state() == doc.state()
    finally:
        stop_server(running)


def test_text_holding_a_nul_is_refused_plainly_on_either_engine(playlist_server: BundledServer,
                                                                clients: dict[str, httpx.Client]) -> None:
    login = httpx.post(f"{playlist_server.url}/auth/login", json={"username": "al\u0000ice", "password": "x"})
    assert_error(login, 422, "nul_in_text")
    created = clients["alice"].post("/playlists", json={"id": "nul\u0000playlist", "public": False})
    assert created.status_code == 422, created.text
    assert clients["alice"].get("/playlists").status_code == 200  # and the server serves on
