"""Pushes to one playlist through two server processes on one PostgreSQL take turns in the database (the playlist
row's lock), not in either process: every update lands exactly once, numbered in one order both instances serve.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from server.database import DATABASE_ENV
from sync import PlaylistDoc
from tests.helpers.playlist_peers import Peer, ServerProcess, push_together

WRITERS_PER_INSTANCE = 3
PUSHES_PER_WRITER = 8


def test_concurrent_pushes_through_two_instances_all_land_once_in_one_order(
        tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_ENV, postgres_url)  # the users made here and both instances: one database
    first = ServerProcess(tmp_path / "a", ["alice"])
    second = ServerProcess(tmp_path / "b", [])
    alice = first.peer("alice")
    # A session opened on one instance is valid on the other: both read it from the database.
    on_second = Peer("alice", httpx.Client(base_url=second.url, timeout=60, headers=alice.client.headers))
    try:
        playlist_id = alice.create()
        assert on_second.client.get(f"/playlists/{playlist_id}").status_code == 200
        results = push_together(playlist_id, [alice, on_second], WRITERS_PER_INSTANCE, PUSHES_PER_WRITER)
        from_first, from_second = alice.pull(playlist_id), on_second.pull(playlist_id)
    finally:
        alice.close()
        on_second.close()
        first.stop()
        second.stop()
    writers = WRITERS_PER_INSTANCE * 2
    assert from_first == from_second and from_first.last_seq == writers * PUSHES_PER_WRITER
    assert [update.seq for update in from_first.updates] == list(range(1, writers * PUSHES_PER_WRITER + 1))
    logged = {update.update_id: update.seq for update in from_first.updates}
    pushed = {update_id: seq for writer in results for update_id, seq in writer}
    assert logged == pushed  # each push got the seq the log holds it at, none twice, none lost
    for writer in results:  # one writer's pushes keep their order in the log
        assert [seq for _update_id, seq in writer] == sorted(seq for _update_id, seq in writer)
    merged = PlaylistDoc.from_updates(playlist_id, from_first.blobs())
    assert len(merged.entries()) == writers * PUSHES_PER_WRITER
