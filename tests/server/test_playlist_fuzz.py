"""Fuzzing the push endpoint with valid loro updates mutated and re-sealed, as an attacker would send them.

The server must stay up, answer every push 2xx or 4xx, keep every playlist writable, and load each after a
restart. About a minute in CI; LEGATO_LONG=1 pushes thousands more (LEGATO_FUZZ_SEED picks the schedule).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import httpx
import pytest

from sync import PlaylistDoc
from tests.helpers.loro_blobs import mutate
from tests.helpers.playlist_peers import Device, Peer, ServerProcess
from tests.helpers.postgres import ON_BOTH_ENGINES

pytestmark = ON_BOTH_ENGINES

LONG = os.environ.get("LEGATO_LONG") == "1"
PUSHES = (20_000 if LONG else 3_000) // 2  # the budget shared by the two engines' runs
PLAYLISTS = 4
CHECK_EVERY = 25


def hostile_blob(rng: random.Random, device: Device) -> bytes:
    """A mutation of something valid for the device's playlist: a fresh edit, its whole history, or a snapshot."""
    scratch = PlaylistDoc.from_updates(device.doc.playlist_id, [device.doc.snapshot()])
    version = scratch.version()
    ids = scratch.entry_ids()
    if ids and rng.random() < 0.3:
        scratch.move(rng.choice(ids), rng.randrange(len(ids)))
    else:
        scratch.add(rng.randrange(1, 100), device.user)
    base = rng.choice([scratch.export_since(version), scratch.export_since(version), scratch.export_since(None),
                       scratch.snapshot()])
    return mutate(rng, base)


def assert_writable(device: Device, peer: Peer) -> None:
    device.edit()
    device.sync(peer)
    assert device.outbox == []


@pytest.mark.slow
def test_mutated_updates_never_take_the_server_down_and_every_playlist_stays_writable(tmp_path: Path) -> None:
    seed = int(os.environ.get("LEGATO_FUZZ_SEED", "20261201"))
    rng = random.Random(seed)
    server = ServerProcess(tmp_path, ["mallory"])
    peer = server.peer("mallory")
    try:
        devices = [Device("mallory", peer.create(), rng) for _ in range(PLAYLISTS)]
        for device in devices:
            for _ in range(4):
                device.edit()
            device.sync(peer)
        answers: Counter[str] = Counter()
        for count in range(1, PUSHES + 1):
            device = rng.choice(devices)
            blob = hostile_blob(rng, device)
            try:
                response = peer.push(device.doc.playlist_id, blob)
            except httpx.TransportError as exc:
                pytest.fail(f"push {count} (seed {seed}) took the server down: {exc!r}; blob {blob.hex()}")
            assert response.status_code < 500, f"push {count} (seed {seed}): {response.text}; blob {blob.hex()}"
            answers[response.json()["error"]["code"] if response.status_code >= 400 else "stored"] += 1
            if response.status_code < 300:
                device.sync(peer)  # the server proved it; every replica must be able to take it too
            if count % CHECK_EVERY == 0:
                assert_writable(device, peer)
        print(f"fuzz seed {seed}: {dict(answers)}")
        for device in devices:
            assert_writable(device, peer)
        assert server.alive
        server.stop()
        server.start()
        peer.close()
        peer = server.peer("mallory")
        for device in devices:
            reloaded = PlaylistDoc.from_updates(device.doc.playlist_id, peer.pull(device.doc.playlist_id).blobs())
            assert reloaded.state() == device.doc.state()
            assert_writable(device, peer)
    finally:
        peer.close()
        server.stop()
