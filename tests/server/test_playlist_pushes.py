"""Hostile pushes against the real server: known crashers, wrong shapes, forged authors, oversize growth,
concurrent creation, and ids that belong to someone else. Nothing may answer 5xx or take the server down.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from loro import ExportMode, LoroDoc

from sync import MAX_SNAPSHOT_BYTES, MAX_STORED_SNAPSHOT_BYTES, PlaylistDoc
from tests.helpers.hostile_shapes import WRONG_SHAPES, crafted
from tests.helpers.loro_blobs import SKIPPING_PLAYLIST, skips_its_peers_change
from tests.helpers.playlist_peers import Peer, ServerProcess
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.server_api import description_updates, edit

pytestmark = ON_BOTH_ENGINES

FIXTURES = Path(__file__).with_name("fixtures")
FIXTURE_PLAYLIST = "fixture-playlist"  # the playlist the two crashers were mutated from
USERS = ("alice", "bob", "carol")


@pytest.fixture(scope="module")
def server(module_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The module's server, one per engine (so it depends on ``module_database``)."""
    running = ServerProcess(tmp_path_factory.mktemp("pushes-server"), USERS)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def peers(server: ServerProcess) -> Iterator[dict[str, Peer]]:
    logged_in = {user: server.peer(user) for user in USERS}
    yield logged_in
    for peer in logged_in.values():
        peer.close()


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert "nothing was stored" in response.json()["error"]["message"]


def test_the_two_known_crashers_are_refused_and_the_playlist_stays_writable(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, ["alice"])
    alice = server.peer("alice")
    try:
        alice.create(FIXTURE_PLAYLIST)
        doc = PlaylistDoc.create(FIXTURE_PLAYLIST)
        assert alice.push(FIXTURE_PLAYLIST, edit(doc, 1, "alice")).status_code == 200
        # decode_import_blob_meta asks for 512 TB and Rust aborts: only the worker that tried it dies.
        assert_refused(alice.push(FIXTURE_PLAYLIST, (FIXTURES / "alloc-512tb.bin").read_bytes()), 422,
                       "update_unprocessable")
        # Imports cleanly (the old server stored it), then panics when the snapshot is taken.
        assert_refused(alice.push(FIXTURE_PLAYLIST, (FIXTURES / "panics-at-snapshot.bin").read_bytes()), 422,
                       "decoder_fault")
        assert alice.push(FIXTURE_PLAYLIST, edit(doc, 2, "alice")).json()["last_seq"] == 2
        server.stop()
        server.start()
        alice.close()
        alice = server.peer("alice")
        assert PlaylistDoc.from_updates(FIXTURE_PLAYLIST, alice.pull(FIXTURE_PLAYLIST).blobs()).state() == doc.state()
        assert alice.push(FIXTURE_PLAYLIST, edit(doc, 3, "alice")).json()["last_seq"] == 3
    finally:
        alice.close()
        server.stop()


def test_a_push_whose_change_skips_its_peers_previous_one_is_refused(peers: dict[str, Peer]) -> None:
    alice = peers["alice"]
    alice.create(SKIPPING_PLAYLIST)
    assert_refused(alice.push(SKIPPING_PLAYLIST, skips_its_peers_change()), 422, "malformed_update")
    assert alice.client.get(f"/playlists/{SKIPPING_PLAYLIST}").json()["last_seq"] == 0


def test_valid_loro_of_the_wrong_shape_gets_a_4xx_and_nothing_is_stored(peers: dict[str, Peer]) -> None:
    alice = peers["alice"]
    playlist_id = alice.create()
    doc = PlaylistDoc.create(playlist_id)
    assert alice.push(playlist_id, edit(doc, 1, "alice")).status_code == 200
    for shape, change in WRONG_SHAPES.items():
        response = alice.push(playlist_id, crafted(doc, change))
        assert response.status_code == 422, f"{shape}: {response.text}"
        assert response.json()["error"]["code"] == "invalid_state", shape
    assert alice.pull(playlist_id).last_seq == 1
    assert alice.push(playlist_id, edit(doc, 2, "alice")).json()["last_seq"] == 2


def test_a_collaborator_cannot_add_an_entry_in_someone_elses_name(peers: dict[str, Peer]) -> None:
    alice, bob = peers["alice"], peers["bob"]
    playlist_id = alice.create()
    alice.invite(playlist_id, "bob")
    doc = PlaylistDoc.create(playlist_id)
    assert_refused(bob.push(playlist_id, edit(PlaylistDoc.from_updates(playlist_id, [doc.snapshot()]), 1, "alice")),
                   422, "invalid_state")
    assert bob.push(playlist_id, edit(doc, 1, "bob")).status_code == 200
    assert [entry.added_by for entry in PlaylistDoc.from_updates(playlist_id, bob.pull(playlist_id).blobs())
            .entries()] == ["bob"]


@pytest.mark.slow
def test_a_playlist_growing_towards_what_the_loader_refuses_gets_413_first(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, ["alice"])
    alice = server.peer("alice")
    try:
        playlist_id = alice.create()
        doc = PlaylistDoc.create(playlist_id)
        rng = random.Random(10)
        answers = []
        while not answers or answers[-1].status_code == 200:
            assert len(answers) < 10, "the playlist kept growing past its limit"
            accepted = PlaylistDoc.from_updates(playlist_id, [doc.snapshot()])
            answers.append(alice.push(playlist_id, *description_updates(doc, rng, 20)))
            if answers[-1].status_code != 200:
                doc = accepted  # the refused batch never happened, as far as the server is concerned
        assert_refused(answers[-1], 413, "playlist_too_large")
        assert "remove entries or start another playlist" in answers[-1].json()["error"]["message"]
        stored = PlaylistDoc.from_updates(playlist_id, alice.pull(playlist_id).blobs())
        assert stored.state() == doc.state()
        assert len(stored.snapshot()) <= MAX_STORED_SNAPSHOT_BYTES < MAX_SNAPSHOT_BYTES
        server.stop()
        server.start()
        alice.close()
        alice = server.peer("alice")
        assert alice.push(playlist_id, edit(doc, 1, "alice")).status_code == 200  # it loads, and takes small edits
    finally:
        alice.close()
        server.stop()


def test_creating_one_playlist_from_many_threads_at_once_makes_one(server: ServerProcess) -> None:
    playlist_id = str(uuid.uuid4())
    peers = [server.peer("carol") for _ in range(12)]
    start = threading.Barrier(len(peers))
    statuses: list[int] = []

    def create(peer: Peer) -> None:
        start.wait()
        statuses.append(peer.client.post("/playlists", json={"id": playlist_id}).status_code)

    threads = [threading.Thread(target=create, args=(peer,)) for peer in peers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [200] * (len(peers) - 1) + [201]
    listed = [item["id"] for item in peers[0].client.get("/playlists").json()["playlists"]]
    assert listed.count(playlist_id) == 1
    for peer in peers:
        peer.close()


def test_creating_an_id_someone_else_owns_answers_like_reading_it(peers: dict[str, Peer]) -> None:
    alice, bob = peers["alice"], peers["bob"]
    playlist_id = alice.create()
    claimed = bob.client.post("/playlists", json={"id": playlist_id})
    read = bob.client.get(f"/playlists/{playlist_id}")
    assert (claimed.status_code, claimed.json()) == (read.status_code, read.json()) == (404, read.json())
    assert read.json()["error"]["code"] == "not_found"
    alice.invite(playlist_id, "bob")  # now bob can see it: the id is plainly taken
    assert bob.client.post("/playlists", json={"id": playlist_id}).json()["error"]["code"] == "playlist_exists"


def test_a_push_that_overruns_its_time_limit_is_refused_and_the_server_carries_on(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, ["alice"], env={"LEGATO_PUSH_JOB_SECONDS": "1"})
    alice = server.peer("alice")
    frozen = server.update_worker_pids()
    try:
        playlist_id = alice.create()
        update = edit(PlaylistDoc.create(playlist_id), 1, "alice")
        assert frozen
        for pid in frozen:  # a check that never ends, however fast the machine
            os.kill(pid, signal.SIGSTOP)
        assert_refused(alice.push(playlist_id, update), 422, "update_unprocessable")
        assert alice.client.get(f"/playlists/{playlist_id}").json()["last_seq"] == 0
        assert set(frozen) - set(server.update_worker_pids()), "the overrunning worker was not replaced"
        assert alice.push(playlist_id, update).status_code == 200  # the client's retry, checked by a fresh worker
        assert alice.client.get(f"/playlists/{playlist_id}").json()["last_seq"] == 1
        assert server.alive
    finally:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        alice.close()
        server.stop()


def test_a_snapshot_pushed_as_an_update_is_stored_as_loro_exports_it(peers: dict[str, Peer]) -> None:
    alice = peers["alice"]
    playlist_id = alice.create()
    doc = PlaylistDoc.create(playlist_id)
    doc.add(4, "alice")
    pushed = doc.snapshot()
    assert alice.push(playlist_id, pushed).status_code == 200
    (logged,) = alice.pull(playlist_id).updates
    assert logged.data != pushed and "Updates" in str(LoroDoc.decode_import_blob_meta(logged.data, True).mode)
    raw = LoroDoc()
    raw.import_(logged.data)
    assert bytes(raw.export(ExportMode.Snapshot()))
