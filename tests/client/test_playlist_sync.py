"""PlaylistSync against the real server: concurrent edits converge, offline edits merge, live edits arrive by SSE."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playlist_server import PlaylistServer

from client.api import ApiClient, ServerUnreachable
from client.playlists import PlaylistChange, PlaylistSync, ReadOnlyPlaylist

USERS = ("alice", "bob", "carol")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlaylistServer]:
    running = PlaylistServer(tmp_path_factory.mktemp("sync-server"), USERS)
    yield running
    running.stop()


class Watcher:
    """Collects on_change calls and waits on a condition over them with a timeout (no sleeps)."""

    def __init__(self) -> None:
        self.changes: list[PlaylistChange] = []
        self._condition = threading.Condition()

    def __call__(self, change: PlaylistChange) -> None:
        with self._condition:
            self.changes.append(change)
            self._condition.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        with self._condition:
            return self._condition.wait_for(predicate, timeout_s)


@pytest.fixture()
def core(server: PlaylistServer, tmp_path: Path) -> Iterator[Callable[..., PlaylistSync]]:
    opened: list[tuple[PlaylistSync, ApiClient]] = []

    def open_core(user: str, device: str = "laptop", watcher: Watcher | None = None) -> PlaylistSync:
        api = server.session(user)
        sync = PlaylistSync(api, tmp_path / f"{user}-{device}", on_change=watcher)
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
