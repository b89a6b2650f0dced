"""Live playlist events across server instances on one PostgreSQL (LISTEN/NOTIFY): a stream open on one instance
hears what was pushed, shared or deleted through another, each entry exactly once and in seq order, and after the
database restarts the streams end, resume from their last seq, and hear the others again.

Real processes throughout (``legato-server serve`` instances on a private cluster, their SSE streams read over
HTTP), but for one in-process check that news is told in its write's transaction: heard at commit, never before,
never for a write rolled back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from server.catalog import Catalog
from server.database import DATABASE_ENV, dispose_engines
from server.playlist_fleet import CHANNEL, fleet_news
from server.playlist_hub import AccessNews, PlaylistHub
from server.playlists import COMPACT_AFTER_UPDATES
from sync import PlaylistDoc, PullResult
from tests.helpers.offline_harness import wait_until
from tests.helpers.playlist_peers import Event, Listener, Peer, ServerProcess, is_event, push_together
from tests.helpers.postgres import running_cluster
from tests.helpers.server_api import edit, push, push_rename

WRITERS_PER_INSTANCE = 3
PUSHES_PER_WRITER = 6
RESTART_WAIT_S = 60.0


def on(instance: ServerProcess, peer: Peer) -> Peer:
    """``peer``'s session on another instance (a session is valid on every instance: it lives in the database)."""
    return Peer(peer.user, httpx.Client(base_url=instance.url, timeout=60, headers=peer.client.headers))


@pytest.fixture
def fleet(tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ServerProcess]]:
    """Three instances on one PostgreSQL database, with the users alice and bob."""
    monkeypatch.setenv(DATABASE_ENV, postgres_url)
    instances: list[ServerProcess] = []
    try:
        for name, users in (("a", ["alice", "bob"]), ("b", []), ("c", [])):
            instances.append(ServerProcess(tmp_path / name, users))
        yield instances
    finally:
        for instance in instances:
            instance.stop()
        dispose_engines()


def notify(database_url: str, *payloads: str) -> None:
    """Send notifications on the fleet's channel straight from the database, as anyone who may connect could."""
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as connection:
        for payload in payloads:
            connection.execute("SELECT pg_notify(%s, %s)", [CHANNEL, payload])


def seqs_of(events: list[Event], playlist_id: str | None = None) -> list[int]:
    """The seqs of every update the ``updates`` events carried (of one playlist on a device stream), in order."""
    return [update["seq"] for name, data in events if name == "updates" and data.get("id") == playlist_id
            for update in data["updates"]]


def resume(peer: Peer, playlist_id: str, since: int) -> tuple[Listener, Event]:
    """The playlist's stream reopened from ``since`` as a client does, again while refused (503: the instance's
    idle database connections died with the restart, each is found out once), and its first event."""
    deadline = time.monotonic() + RESTART_WAIT_S
    while True:
        listener = Listener(peer.client, f"/playlists/{playlist_id}/events", since=since)
        first = listener.next_event(RESTART_WAIT_S)
        if first is not None:
            return listener, first
        listener.close()
        assert time.monotonic() < deadline, "the stream was refused for a minute after the restart"


def test_news_is_heard_by_the_other_instances_exactly_when_its_write_commits(
        tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_ENV, postgres_url)
    hub = PlaylistHub(fleet_news(tmp_path))  # this process tells; the listener below is another instance's
    news = AccessNews("told-playlist", frozenset({7}))
    catalog = Catalog.open(tmp_path)
    try:
        with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as other:
            other.execute(f"LISTEN {CHANNEL}")
            with pytest.raises(RuntimeError), hub.telling(catalog) as tell:
                tell(news)
                raise RuntimeError("the write fails after telling its news")
            with catalog.transaction():
                hub.announce_in(catalog, news)
                assert [n.payload for n in other.notifies(timeout=0.5)] == []  # a rolled-back write, or before commit
            (heard,) = [json.loads(n.payload) for n in other.notifies(timeout=5, stop_after=1)]
    finally:
        catalog.close()
    assert (heard["id"], heard["kind"], heard["users"]) == ("told-playlist", "access", [7])


def test_edits_shares_and_deletes_through_one_instance_reach_streams_on_the_others(
        fleet: list[ServerProcess], postgres_url: str) -> None:
    a, b, c = fleet
    alice_a = a.peer("alice")
    alice_b, alice_c, bob_b = on(b, alice_a), on(c, alice_a), b.peer("bob")
    playlist_id = alice_a.create()
    doc = PlaylistDoc.create(playlist_id)
    device = Listener(alice_b.client, "/me/playlist-events")
    single = Listener(alice_c.client, f"/playlists/{playlist_id}/events", since=0)
    bobs = Listener(bob_b.client, "/me/playlist-events")
    try:
        listing = device.until(lambda event: event[0] == "playlists")[-1][1]["playlists"]
        assert [item["id"] for item in listing] == [playlist_id]
        assert single.until(lambda event: event[0] == "updates")[-1][1]["last_seq"] == 0
        bobs.until(lambda event: event[0] == "playlists")
        notify(postgres_url, "not json", "[1]", f'{{"from":"x","id":"{playlist_id}","kind":"updates","after":"z"}}',
               '{"from":"x","id":"p","kind":"access","users":["a"]}')  # ignored, and nobody goes down

        first = push_rename(alice_a.client, doc, "Pushed through A")
        assert seqs_of(device.until(is_event("updates", playlist_id)), playlist_id) == [first]
        assert seqs_of(single.until(lambda event: event[0] == "updates")) == [first]
        # Pushed through B itself: B's device stream hears it once (its own notification is not heard again).
        second = push_rename(alice_b.client, doc, "Pushed through B")
        assert seqs_of(device.until(is_event("updates", playlist_id)), playlist_id) == [second]
        assert seqs_of(single.until(lambda event: event[0] == "updates")) == [second]

        alice_a.invite(playlist_id, "bob")
        shared = bobs.until(is_event("playlist", playlist_id))[-1][1]
        assert (shared["role"], shared["last_seq"]) == ("collaborator", second)
        assert alice_a.client.delete(f"/playlists/{playlist_id}").status_code == 204
        device.until(is_event("removed", playlist_id))
        bobs.until(is_event("removed", playlist_id))
        assert single.until(lambda event: event[0] == "deleted")[-1][1] == {"id": playlist_id}
        assert all(instance.alive for instance in fleet)
    finally:
        for listener in (device, single, bobs):
            listener.close()
        for peer in (alice_a, alice_b, alice_c, bob_b):
            peer.close()


def test_concurrent_pushes_through_two_instances_reach_a_third_once_each_in_seq_order(
        fleet: list[ServerProcess]) -> None:
    a, b, c = fleet
    alice_a = a.peer("alice")
    alice_b, alice_c = on(b, alice_a), on(c, alice_a)
    playlist_id = alice_a.create()
    device = Listener(alice_c.client, "/me/playlist-events")
    single = Listener(alice_c.client, f"/playlists/{playlist_id}/events", since=0)
    total = 2 * WRITERS_PER_INSTANCE * PUSHES_PER_WRITER
    try:
        device.until(lambda event: event[0] == "playlists")
        single.until(lambda event: event[0] == "updates")
        results = push_together(playlist_id, [alice_a, alice_b], WRITERS_PER_INSTANCE, PUSHES_PER_WRITER)
        heard_on_device = device.until(lambda event: is_event("updates", playlist_id)(event)
                                       and event[1]["last_seq"] == total)
        heard_alone = single.until(lambda event: event[0] == "updates" and event[1]["last_seq"] == total)
    finally:
        device.close()
        single.close()
        for peer in (alice_a, alice_b, alice_c):
            peer.close()
    assert seqs_of(heard_on_device, playlist_id) == list(range(1, total + 1))
    assert seqs_of(heard_alone) == list(range(1, total + 1))
    assert sorted(seq for writer in results for _update_id, seq in writer) == list(range(1, total + 1))


def test_a_push_that_compacts_the_log_reaches_streams_on_another_instance_as_a_snapshot(
        fleet: list[ServerProcess]) -> None:
    a, b, _c = fleet
    alice_a = a.peer("alice")
    alice_b = on(b, alice_a)
    playlist_id = alice_a.create()
    doc = PlaylistDoc.create(playlist_id)
    device = Listener(alice_b.client, "/me/playlist-events")
    single = Listener(alice_b.client, f"/playlists/{playlist_id}/events", since=0)
    try:
        device.until(lambda event: event[0] == "playlists")
        single.until(lambda event: event[0] == "updates")
        push_rename(alice_a.client, doc, "Before compaction")
        before = PullResult.from_json(single.until(lambda event: event[0] == "updates")[-1][1])
        device.until(is_event("updates", playlist_id))
        # The rows of a compacting push keep no data: B reads a snapshot back, and hands it on whole.
        response = push(alice_a.client, playlist_id, *(edit(doc, track + 1) for track in range(COMPACT_AFTER_UPDATES)))
        assert response.status_code == 200, response.text
        compacted = [PullResult.from_json(single.until(lambda event: event[0] == "updates")[-1][1]),
                     PullResult.from_json(device.until(is_event("updates", playlist_id))[-1][1])]
    finally:
        device.close()
        single.close()
        alice_a.close()
        alice_b.close()
    for pull in compacted:
        assert pull.snapshot is not None and pull.last_seq == pull.snapshot_seq == COMPACT_AFTER_UPDATES + 1
        assert PlaylistDoc.from_updates(playlist_id, [*before.blobs(), *pull.blobs()]).state() == doc.state()


def test_after_the_database_restarts_streams_resume_and_hear_the_other_instance_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_cluster() as cluster:
        monkeypatch.setenv(DATABASE_ENV, cluster.database())
        a, b = ServerProcess(tmp_path / "a", ["alice"]), ServerProcess(tmp_path / "b", [])
        alice_a = a.peer("alice")
        alice_b = on(b, alice_a)
        playlist_id = alice_a.create()
        doc = PlaylistDoc.create(playlist_id)
        stream = Listener(alice_b.client, f"/playlists/{playlist_id}/events", since=0)
        resumed: Listener | None = None
        try:
            stream.until(lambda event: event[0] == "updates")
            before = push_rename(alice_a.client, doc, "Before the restart")
            assert seqs_of(stream.until(lambda event: event[0] == "updates")) == [before]
            cluster.stop()
            dispose_engines()  # this process's own connections to the stopped cluster
            cluster.start()
            # B listens again, and ends its streams: what was told while it could not hear is gone.
            while stream.next_event(RESTART_WAIT_S) is not None:
                pass
            during = edit(doc, 7)
            wait_until(lambda: push(alice_a.client, playlist_id, during, ids=["during"]).status_code == 200,
                       "instance A taking pushes again", RESTART_WAIT_S)
            resumed, caught_up = resume(alice_b, playlist_id, before)
            assert seqs_of([caught_up]) == [before + 1]
            after = push_rename(alice_a.client, doc, "After the restart")
            assert seqs_of(resumed.until(lambda event: event[0] == "updates")) == [after]
        finally:
            stream.close()
            if resumed is not None:
                resumed.close()
            alice_a.close()
            alice_b.close()
            a.stop()
            b.stop()
            dispose_engines()
