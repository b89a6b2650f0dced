"""PlaylistSync against the real server: concurrent edits converge, offline edits merge, live edits arrive by SSE."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from client.api import ApiClient, ApiError, ServerUnreachable
from client.playlists import DetachedPlaylist, PlaylistSync, ReadOnlyPlaylist
from client.playlists.records import ErrorCallback
from tests.helpers.playlist_server import PlaylistServer, Watcher

USERS = ("alice", "bob", "carol")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlaylistServer]:
    running = PlaylistServer(tmp_path_factory.mktemp("sync-server"), USERS)
    yield running
    running.stop()


@pytest.fixture()
def core(server: PlaylistServer, tmp_path: Path) -> Iterator[Callable[..., PlaylistSync]]:
    opened: list[tuple[PlaylistSync, ApiClient]] = []

    def open_core(user: str, device: str = "laptop", watcher: Watcher | None = None,
                  on_error: ErrorCallback | None = None) -> PlaylistSync:
        api = server.session(user)
        sync = PlaylistSync(api, tmp_path / f"{user}-{device}", on_change=watcher, on_error=on_error)
        opened.append((sync, api))
        return sync

    yield open_core
    for sync, api in opened:
        sync.close()
        api.close()


def shared_playlist(owner: PlaylistSync, *others: PlaylistSync) -> str:
    playlist_id = owner.create("Mix", collaborative=True)
    for track in (1, 2, 3):
        owner.add(playlist_id, track)
    for other in others:
        owner.invite(playlist_id, other.user)
        other.sync()
    return playlist_id


def test_two_cores_editing_concurrently_converge(core: Callable[..., PlaylistSync]) -> None:
    alice, bob = core("alice"), core("bob")
    playlist_id = shared_playlist(alice, bob)
    entries = alice.state(playlist_id).entries
    alice.move(playlist_id, entries[0].entry_id, 2)
    bob.move(playlist_id, entries[0].entry_id, 1)
    bob.remove(playlist_id, entries[1].entry_id)
    added = alice.add(playlist_id, 9, 0)
    bob.rename(playlist_id, "Bob's mix")
    for replica in (alice, bob, alice):
        replica.sync()
    assert alice.state(playlist_id) == bob.state(playlist_id)
    ids = [entry.entry_id for entry in alice.state(playlist_id).entries]
    assert ids.count(entries[0].entry_id) == 1 and entries[1].entry_id not in ids and added.entry_id in ids
    assert alice.state(playlist_id).name == "Bob's mix"


def test_offline_edits_persist_and_merge_on_reconnect(core: Callable[..., PlaylistSync]) -> None:
    alice, bob = core("alice"), core("bob")
    playlist_id = shared_playlist(alice, bob)
    alice.set_online(False)
    offline_entry = alice.add(playlist_id, 42)
    with pytest.raises(ServerUnreachable):
        alice.sync()
    bob.add(playlist_id, 43, 0)
    bob.sync()
    alice.close()
    reopened = core("alice")  # same device, same data dir: the queued edit survived the restart
    assert reopened.playlists()[0].unpushed_edits == 1
    reopened.sync()
    bob.sync()
    assert reopened.state(playlist_id) == bob.state(playlist_id)
    assert [entry.track_id for entry in bob.state(playlist_id).entries] == [43, 1, 2, 3, 42]
    assert offline_entry.entry_id in [entry.entry_id for entry in bob.state(playlist_id).entries]
    assert reopened.playlists()[0].unpushed_edits == 0


def test_a_collaborators_edit_arrives_live_and_again_after_a_server_restart(
        core: Callable[..., PlaylistSync], server: PlaylistServer) -> None:
    watcher = Watcher()
    alice, bob = core("alice", watcher=watcher), core("bob")
    playlist_id = shared_playlist(alice, bob)
    alice.start()
    bob.start()

    def alice_has(track: int) -> Callable[[], bool]:
        return lambda: any(change.remote for change in watcher.changes) and track in [
            entry.track_id for entry in alice.state(playlist_id).entries]

    bob.add(playlist_id, 77)
    assert watcher.wait_for(alice_has(77))
    server.restart()
    bob.add(playlist_id, 78)
    assert watcher.wait_for(alice_has(78), timeout_s=30)
    assert alice.state(playlist_id) == bob.state(playlist_id)


def test_a_follower_reads_but_cannot_edit(core: Callable[..., PlaylistSync]) -> None:
    alice, carol = core("alice"), core("carol")
    playlist_id = alice.create("Public", public=True)
    alice.add(playlist_id, 5)
    alice.sync()
    carol.follow(playlist_id)
    assert carol.state(playlist_id) == alice.state(playlist_id)
    with pytest.raises(ReadOnlyPlaylist):
        carol.add(playlist_id, 6)


def test_edits_unpushed_when_the_playlist_goes_elsewhere_are_kept_detached_and_reported(
        core: Callable[..., PlaylistSync]) -> None:
    errors: list[tuple[str, Exception]] = []
    laptop = core("alice", "laptop", on_error=lambda playlist_id, exc: errors.append((playlist_id, exc)))
    phone = core("alice", "phone")
    playlist_id = laptop.create("Mix")
    laptop.add(playlist_id, 1)
    laptop.sync(playlist_id)
    phone.sync()
    laptop.set_online(False)
    unpushed = laptop.add(playlist_id, 2)
    phone.delete(playlist_id)
    laptop.set_online(True)
    laptop.sync()  # the listing lacks it, the server then says it is gone: the unpushed edit must survive
    info = next(info for info in laptop.playlists() if info.playlist_id == playlist_id)
    assert info.detached and info.unpushed_edits == 1
    assert unpushed.entry_id in [entry.entry_id for entry in laptop.state(playlist_id).entries]
    assert [(reported, type(exc)) for reported, exc in errors] == [(playlist_id, DetachedPlaylist)]
    with pytest.raises(DetachedPlaylist, match="delete the playlist here"):
        laptop.add(playlist_id, 3)
    laptop.close()
    reopened = core("alice", "laptop")
    assert [info.detached for info in reopened.playlists() if info.playlist_id == playlist_id] == [True]
    reopened.delete(playlist_id)  # the user's choice: only now are the edits dropped
    assert playlist_id not in [info.playlist_id for info in reopened.playlists()]


def test_a_new_login_reaches_sync_through_the_shared_session(server: PlaylistServer, tmp_path: Path) -> None:
    api = server.session("bob")
    sync = PlaylistSync(api, tmp_path / "bob")
    try:
        playlist_id = sync.create("After a new login")
        httpx.post(f"{server.url}/auth/logout", headers={"Authorization": f"Bearer {api.token}"})
        with pytest.raises(ApiError) as refused:
            sync.sync(playlist_id)
        assert refused.value.status == 401
        api.login("bob", "bob-pw")
        sync.sync(playlist_id)
        assert sync.playlists()[0].unpushed_edits == 0
    finally:
        sync.close()
        api.close()


def test_wait_idle_says_when_everything_is_pushed_and_pulled(core: Callable[..., PlaylistSync]) -> None:
    watcher = Watcher()
    laptop, phone = core("carol", "laptop"), core("carol", "phone", watcher=watcher)
    laptop.start()
    phone.start()
    playlist_id = laptop.create("Idle")
    for track in (1, 2, 3):
        laptop.add(playlist_id, track)
    assert laptop.wait_idle(10)
    assert all(info.unpushed_edits == 0 for info in laptop.playlists())
    assert watcher.wait_for(lambda: playlist_id in [info.playlist_id for info in phone.playlists()] and [
        entry.track_id for entry in phone.state(playlist_id).entries] == [1, 2, 3])
    assert phone.wait_idle(10)
    laptop.set_online(False)
    laptop.add(playlist_id, 4)
    assert not laptop.wait_idle(0.2)
