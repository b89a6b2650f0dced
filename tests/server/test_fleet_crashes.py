"""A fleet of server instances on one PostgreSQL losing members: an instance SIGKILLed while writers push through
it and through another loses no acknowledged push (each is in the log once, the log has no gap) and the other
keeps serving; devices editing one collaborative playlist through random instances, offline between syncs, while
instances are killed and restarted at random (seeded), all converge on the log the fleet holds.

LEGATO_LONG=1 for many more restarts (LEGATO_FLEET_SEED picks the schedule).
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.database import DATABASE_ENV, dispose_engines
from sync import PlaylistDoc
from tests.helpers.playlist_peers import Device, Peer, ServerProcess, assert_log_consistent
from tests.helpers.server_api import edit

LONG = os.environ.get("LEGATO_LONG") == "1"
RESTARTS = 24 if LONG else 3
WRITERS_PER_INSTANCE = 3
USERS = ("alice", "alice", "bob", "bob")  # two devices each of the owner and of a collaborator
pytestmark = pytest.mark.slow


class Fleet:
    """Instances on one database with the users alice and bob; a session works on any of them."""

    def __init__(self, folder: Path, size: int) -> None:
        self.instances = [ServerProcess(folder / str(index), ["alice", "bob"] if index == 0 else [])
                          for index in range(size)]
        sessions = [self.instances[0].peer(user) for user in ("alice", "bob")]
        self.headers = {peer.user: peer.client.headers for peer in sessions}
        for peer in sessions:
            peer.close()

    def peer(self, user: str, instance: ServerProcess) -> Peer:
        return Peer(user, httpx.Client(base_url=instance.url, timeout=60, headers=self.headers[user]))

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()


@pytest.fixture
def fleet_on_postgres(tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(DATABASE_ENV, postgres_url)
    yield tmp_path
    dispose_engines()


def test_an_instance_killed_mid_push_loses_no_acknowledged_push_and_the_other_serves_on(
        fleet_on_postgres: Path) -> None:
    fleet = Fleet(fleet_on_postgres, 2)
    doomed, survivor = fleet.instances
    owner = fleet.peer("alice", survivor)
    playlist_id = owner.create()
    acknowledged: dict[str, int] = {}
    in_doubt: list[tuple[str, bytes]] = []  # sent to the killed instance, never answered
    lock = threading.Lock()
    condition = threading.Condition(lock)
    stop = threading.Event()

    def write(index: int, instance: ServerProcess) -> None:
        doc, peer = PlaylistDoc.create(playlist_id), fleet.peer("alice", instance)
        try:
            for step in range(10_000):
                update_id, data = f"writer-{index}-{step}", edit(doc, index * 1000 + step + 1)
                try:
                    response = peer.push(playlist_id, data, ids=[update_id])
                except httpx.TransportError:
                    with lock:
                        in_doubt.append((update_id, data))
                    return
                assert response.status_code == 200, response.text
                with condition:
                    acknowledged[update_id] = int(response.json()["seqs"][0])
                    condition.notify_all()
                if stop.is_set():
                    return
        finally:
            peer.close()

    writers = [threading.Thread(target=write, args=(index, instance))
               for index, instance in enumerate([doomed, survivor] * WRITERS_PER_INSTANCE)]
    for thread in writers:
        thread.start()
    try:
        with condition:
            assert condition.wait_for(lambda: len(acknowledged) >= 30, timeout=120)
        doomed.kill()
        with condition:  # the survivor's writers go on pushing past the kill
            killed_at = len(acknowledged)
            assert condition.wait_for(lambda: len(acknowledged) >= killed_at + 10, timeout=120)
        stop.set()
        for thread in writers:
            thread.join(60)
        # A client retries an unanswered push with the same id through any instance: it lands once either way.
        retried = {update_id: owner.push(playlist_id, data, ids=[update_id]) for update_id, data in in_doubt}
        assert all(response.status_code == 200 for response in retried.values())
        log = owner.pull(playlist_id)
        longest = assert_log_consistent(fleet_on_postgres / "1")
    finally:
        stop.set()
        owner.close()
        fleet.stop()
    logged = {update.update_id: update.seq for update in log.updates}
    assert [update.seq for update in log.updates] == list(range(1, log.last_seq + 1)) and longest == log.last_seq
    assert len(logged) == len(log.updates)  # no update twice
    assert all(logged[update_id] == seq for update_id, seq in acknowledged.items())
    assert set(logged) == set(acknowledged) | set(retried)
    assert all(logged[update_id] == response.json()["seqs"][0] for update_id, response in retried.items())
    assert in_doubt, "no push was in flight through the killed instance"


def test_devices_converge_while_instances_restart_at_random(fleet_on_postgres: Path) -> None:
    seed = int(os.environ.get("LEGATO_FLEET_SEED", "18180"))
    rng = random.Random(seed)
    fleet = Fleet(fleet_on_postgres, 3)
    owner = fleet.peer("alice", fleet.instances[0])
    playlist_id = owner.create()
    owner.invite(playlist_id, "bob")
    owner.close()
    devices = [Device(user, playlist_id, random.Random(rng.random())) for user in USERS]
    synced, errors = 0, list[Exception]()
    condition = threading.Condition()
    stop = threading.Event()

    def after_syncs(count: int, timeout_s: float) -> bool:
        """Wait until the devices synced ``count`` times more (or one failed, or the run is over)."""
        with condition:
            goal = synced + count
            return condition.wait_for(lambda: synced >= goal or bool(errors) or stop.is_set(), timeout=timeout_s)

    def work(device: Device, choices: random.Random) -> None:
        nonlocal synced
        while not stop.is_set():
            for _ in range(choices.randrange(1, 8)):
                device.edit()
            if choices.random() < 0.3:  # offline while the others sync a few times: the edits wait in the outbox
                after_syncs(choices.randrange(1, 4), timeout_s=5)
                continue
            peer = fleet.peer(device.user, choices.choice(fleet.instances))
            try:
                device.sync(peer)
            except httpx.TransportError:
                continue  # that instance is down (or went down mid-sync); the outbox keeps what it did not confirm
            except Exception as exc:  # noqa: BLE001 - reported to the test below
                errors.append(exc)
                return
            finally:
                peer.close()
            with condition:
                synced += 1
                condition.notify_all()

    threads = [threading.Thread(target=work, args=(device, random.Random(rng.random()))) for device in devices]
    try:
        for thread in threads:
            thread.start()
        for _restart in range(RESTARTS):
            assert after_syncs(rng.randrange(4, 12), timeout_s=120)
            assert not errors, errors
            instance = rng.choice(fleet.instances)
            if rng.random() < 0.5:
                instance.kill()
            else:
                instance.stop()
            instance.start()
        stop.set()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        for _ in range(2):  # push every outbox, then pull what the others pushed
            for device in devices:
                peer = fleet.peer(device.user, rng.choice(fleet.instances))
                device.sync(peer)
                peer.close()
        reader = fleet.peer("alice", rng.choice(fleet.instances))
        stored = PlaylistDoc.from_updates(playlist_id, reader.pull(playlist_id).blobs()).state()
        reader.close()
        longest = assert_log_consistent(fleet_on_postgres / "0")
    finally:
        stop.set()
        fleet.stop()
    assert {device.doc.state() for device in devices} == {stored}
    assert all(device.outbox == [] for device in devices)
    print(f"fleet seed {seed}: {RESTARTS} restarts, {synced} syncs, log of {longest}")
