"""The live playlist streams of the real server: one per device for every playlist, and access re-checked at once.

A sentinel event the same stream must deliver later proves that nothing was sent in between (no waiting on time).
"""

from __future__ import annotations

import httpx

from client.bundled import BundledServer
from tests.helpers.playlist_peers import Listener, is_event
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.server_api import new_playlist, push_rename

pytestmark = ON_BOTH_ENGINES


def test_one_device_stream_carries_every_playlist_and_tells_of_shares(clients: dict[str, httpx.Client]) -> None:
    alice, bob = clients["alice"], clients["bob"]
    own_id, own_doc = new_playlist(alice)
    listener = Listener(alice, "/me/playlist-events")
    try:
        _name, listing = listener.until(lambda event: event[0] == "playlists")[-1]
        assert own_id in [item["id"] for item in listing["playlists"]]
        shared_id, shared_doc = new_playlist(bob)
        assert bob.post(f"/playlists/{shared_id}/collaborators", json={"user": "alice"}).status_code == 200
        shared = listener.until(is_event("playlist", shared_id))[-1][1]
        assert (shared["role"], shared["owner"]) == ("collaborator", "bob")
        seq = push_rename(bob, shared_doc, "From bob")
        push_rename(alice, own_doc, "Mine")
        events = listener.until(is_event("updates", own_id))
        assert [(event[1]["id"], event[1]["last_seq"]) for event in events if event[0] == "updates"] == [
            (shared_id, seq), (own_id, 1)]
        assert bob.delete(f"/playlists/{shared_id}").status_code == 204
        listener.until(is_event("removed", shared_id))
    finally:
        listener.close()


def test_a_followers_device_stream_gets_nothing_more_once_the_playlist_is_private(
        clients: dict[str, httpx.Client]) -> None:
    alice, carol = clients["alice"], clients["carol"]
    playlist_id, doc = new_playlist(alice, public=True)
    assert carol.post(f"/playlists/{playlist_id}/followers").status_code == 200
    listener = Listener(carol, "/me/playlist-events")
    try:
        listener.until(lambda event: event[0] == "playlists")
        push_rename(alice, doc, "Still public")
        listener.until(is_event("updates", playlist_id))
        assert alice.patch(f"/playlists/{playlist_id}", json={"public": False}).status_code == 200
        push_rename(alice, doc, "Private now")
        sentinel_id, _ = new_playlist(alice, public=True)
        assert carol.post(f"/playlists/{sentinel_id}/followers").status_code == 200
        after = listener.until(is_event("playlist", sentinel_id))
        assert [event[0] for event in after if event[1].get("id") == playlist_id] == ["removed"]
    finally:
        listener.close()


def test_a_followers_playlist_stream_ends_once_the_playlist_is_private(clients: dict[str, httpx.Client]) -> None:
    alice, carol = clients["alice"], clients["carol"]
    playlist_id, doc = new_playlist(alice, public=True)
    assert carol.post(f"/playlists/{playlist_id}/followers").status_code == 200
    listener = Listener(carol, f"/playlists/{playlist_id}/events", since=0)
    try:
        assert listener.next_event() == ("updates", {"snapshot": None, "snapshot_seq": 0, "updates": [],
                                                     "last_seq": 0})
        assert alice.patch(f"/playlists/{playlist_id}", json={"public": False}).status_code == 200
        push_rename(alice, doc, "Private now")
        assert listener.next_event() == ("deleted", {"id": playlist_id})
        assert listener.next_event() is None
    finally:
        listener.close()


def test_a_device_stream_needs_a_valid_token(playlist_server: BundledServer) -> None:
    response = httpx.get(f"{playlist_server.url}/me/playlist-events", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
