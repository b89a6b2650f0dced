"""SIGKILL the server at random moments while devices push, restart it, repeat: the log stays consistent
(seqs contiguous, no row past last_seq, data dropped only under a snapshot) and every device then syncs.

A handful of rounds in CI; LEGATO_LONG=1 for many more (LEGATO_CRASH_SEED picks the schedule).
"""

from __future__ import annotations

import os
import random
import threading
from pathlib import Path

import httpx
import pytest

from server.playlists import COMPACT_AFTER_UPDATES
from sync import PlaylistDoc
from tests.helpers.playlist_peers import Device, ServerProcess, assert_log_consistent
from tests.helpers.postgres import ON_BOTH_ENGINES

pytestmark = ON_BOTH_ENGINES

LONG = os.environ.get("LEGATO_LONG") == "1"
ROUNDS = 25 if LONG else 2  # on each engine
USERS = ("alice", "alice", "bob")  # two devices of the owner, one of a collaborator, on every playlist


def run_until_killed(server: ServerProcess, devices: list[Device], rng: random.Random) -> None:
    """Every device edits and syncs in its own thread; after a random number of syncs the server is killed."""
    synced, errors = 0, []
    condition = threading.Condition()

    def work(device: Device, edits: random.Random) -> None:
        nonlocal synced
        peer = server.peer(device.user)
        try:
            while True:
                for _ in range(edits.randrange(1, 12)):
                    device.edit()
                device.sync(peer)
                with condition:
                    synced += 1
                    condition.notify_all()
        except httpx.TransportError:
            return  # the server is gone; the outbox keeps what it did not confirm
        except Exception as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
            with condition:
                condition.notify_all()
        finally:
            peer.close()

    kill_after = rng.randrange(10, 80)
    threads = [threading.Thread(target=work, args=(device, random.Random(rng.random()))) for device in devices]
    for thread in threads:
        thread.start()
    with condition:
        assert condition.wait_for(lambda: synced >= kill_after or errors, timeout=120)
    server.kill()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


@pytest.mark.slow
def test_killing_the_server_mid_push_never_corrupts_the_log_and_every_device_syncs(tmp_path: Path) -> None:
    seed = int(os.environ.get("LEGATO_CRASH_SEED", "424242"))
    rng = random.Random(seed)
    server = ServerProcess(tmp_path, ["alice", "bob"])
    owner = server.peer("alice")
    playlist_ids = [owner.create() for _ in range(2)]
    for playlist_id in playlist_ids:
        owner.invite(playlist_id, "bob")
    owner.close()
    devices = [Device(user, playlist_id, random.Random(rng.random()))
               for playlist_id in playlist_ids for user in USERS]
    try:
        longest = 0
        for _round in range(ROUNDS):
            run_until_killed(server, devices, rng)
            longest = assert_log_consistent(tmp_path)
            server.start()
        for _ in range(2):  # push every outbox, then pull what the others pushed
            for device in devices:
                peer = server.peer(device.user)
                device.sync(peer)
                peer.close()
        reader = server.peer("alice")
        for playlist_id in playlist_ids:
            states = {device.doc.state() for device in devices if device.doc.playlist_id == playlist_id}
            stored = PlaylistDoc.from_updates(playlist_id, reader.pull(playlist_id).blobs()).state()
            assert states == {stored}
        reader.close()
        print(f"crash seed {seed}: {ROUNDS} kills, longest log {longest} (compacts after {COMPACT_AFTER_UPDATES})")
    finally:
        server.stop()
