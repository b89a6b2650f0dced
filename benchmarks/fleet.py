"""The server past one machine, measured on this one (issue 18): SQLite with one instance against PostgreSQL (a
private cluster) with 1, 2 and 4 ``legato-server serve`` instances on one database, all on loopback.

Per configuration:
- requests/s of a mixed workload (browse 30 %, manifest 25 %, licence 20 %, search 15 %, playlist push 10 %) from
  ``--clients`` asyncio clients, each on one kept connection to one instance: client i talks to instance i % N
  directly (no edge in front, so its nginx does not share the two cores with the figures), after a warm-up of
  ``--warmup`` requests per client; and the CPU per request (from /proc) of the server processes (each ``serve``
  and its update workers) and of the whole PostgreSQL cluster (its postmaster and every backend), and both;
- push latency p50/p95 with ``--writers`` writers pushing to one collaborative playlist at once, spread over
  the instances (their pushes take turns on the playlist row's lock);
- live-event fan-out latency p50/p95: a push through instance 0 until its ``updates`` event reaches a stream on
  instance 1 (on one instance: the same instance, the in-process fan-out, the baseline).
Figures with a baseline are also given as ratios to SQLite with one instance in the same run. The load generator
shares the machine with the servers (2 cores: the ceiling is the machine, not the fleet).

    python -m benchmarks.fleet [--requests 1600] [--warmup 10] [--clients 16] [--writers 4] [--pushes 25]
                               [--events 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.release_day import ORIGIN_LIMITS, cpu_s
from server.database import DATABASE_ENV, dispose_engines
from server.demo import build_demo
from sync import OutgoingUpdate, PlaylistDoc, PushRequest
from tests.helpers.own_server import pids_running
from tests.helpers.playlist_peers import Listener, Peer, ServerProcess
from tests.helpers.postgres import Cluster, copy_data_dir, running_cluster
from tests.helpers.server_api import edit

CONFIGURATIONS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 4))
MIX = (("browse", 30), ("manifest", 25), ("licence", 20), ("search", 15), ("push", 10))
SEARCHES = ("live", "set", "demo", "tone", "song", "night")
UNLIMITED = {name: "1000000" for name in ORIGIN_LIMITS}  # admission control far above the load: measure the work
USERS = ("alice", "bob")


@dataclass(frozen=True)
class Rig:
    """Running instances on one database, a session for each user (valid on every instance), and what to ask."""

    instances: list[ServerProcess]
    tokens: dict[str, dict[str, str]]
    track_ids: list[int]
    file_ids: list[int]
    database_pid: int | None  # the PostgreSQL cluster's postmaster

    def cpu_s(self) -> tuple[float, float]:
        """CPU seconds so far of every server process (each ``serve`` and its update workers) and of the database
        (the postmaster, its running backends, and those that ended, which the postmaster has reaped)."""
        roots = {pid for instance in self.instances for pid in pids_running("serve", instance.data_dir)}
        servers = roots | {pid for root in roots for pid in _descendants(root)}
        database = 0.0
        if self.database_pid is not None:
            database = _reaped_cpu_s(self.database_pid) + sum(
                _alive_cpu_s(pid) for pid in {self.database_pid, *_descendants(self.database_pid)})
        return sum(_alive_cpu_s(pid) for pid in servers), database

    def peer(self, user: str, index: int) -> Peer:
        instance = self.instances[index % len(self.instances)]
        return Peer(user, httpx.Client(base_url=instance.url, timeout=60, headers=self.tokens[user]))


def _alive_cpu_s(pid: int) -> float:
    try:
        return cpu_s(pid)
    except OSError:
        return 0.0  # it ended between the scan and the read


def _reaped_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of the process's children that ended and were waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> set[int]:
    children: dict[int, set[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, set()).add(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@contextmanager
def rig(demo: Path, folder: Path, engine: str, size: int, cluster: Cluster) -> Iterator[Rig]:
    """``size`` instances on copies of the demo data dir, on its SQLite catalog or on one fresh PostgreSQL."""
    saved = os.environ.get(DATABASE_ENV)
    if engine == "postgresql":
        os.environ[DATABASE_ENV] = cluster.database()
    instances: list[ServerProcess] = []
    try:
        copy_data_dir(demo, folder / "0")  # the catalog into PostgreSQL too, once
        for index in range(1, size):
            shutil.copytree(demo, folder / str(index))
        for index in range(size):
            instances.append(ServerProcess(folder / str(index), USERS if index == 0 else [], env=UNLIMITED))
        tokens = {}
        for user in USERS:
            peer = instances[0].peer(user)
            tokens[user] = dict(peer.client.headers)
            peer.close()
        with httpx.Client(base_url=instances[0].url, headers=tokens["alice"]) as client:
            tracks = client.get("/tracks", params={"limit": 50}).json()["tracks"]
            track_ids = [int(track["id"]) for track in tracks]
            file_ids = [int(client.get(f"/tracks/{track_id}/manifest").json()["files"][0]["id"])
                        for track_id in track_ids[:8]]
        postmaster = cluster.root / "data" / "postmaster.pid"
        database_pid = int(postmaster.read_text().split()[0]) if engine == "postgresql" else None
        yield Rig(instances, tokens, track_ids, file_ids, database_pid)
    finally:
        for instance in instances:
            instance.stop()
        dispose_engines()
        if saved is None:
            os.environ.pop(DATABASE_ENV, None)
        else:
            os.environ[DATABASE_ENV] = saved


# -- the mixed workload ---------------------------------------------------------------------------------------

async def _client(rig: Rig, index: int, requests: int, rng: random.Random, tally: dict[str, int],
                  took: dict[str, list[float]]) -> None:
    instance = rig.instances[index % len(rig.instances)]
    playlist_id = str(uuid.uuid4())
    doc = PlaylistDoc.create(playlist_id)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=instance.url, headers=rig.tokens["alice"], limits=limits,
                                 timeout=60) as client:
        assert (await client.post("/playlists", json={"id": playlist_id})).status_code == 201
        kinds = [kind for kind, _weight in MIX]
        weights = [weight for _kind, weight in MIX]
        for kind in rng.choices(kinds, weights, k=requests):
            began = time.perf_counter()
            if kind == "browse":
                response = await client.get(rng.choice(("/albums", "/albums/1", "/artists")))
            elif kind == "manifest":
                response = await client.get(f"/tracks/{rng.choice(rig.track_ids)}/manifest")
            elif kind == "licence":
                response = await client.get(f"/licences/{rng.choice(rig.file_ids)}")
            elif kind == "search":
                response = await client.get("/search", params={"q": rng.choice(SEARCHES)})
            else:
                body = PushRequest((OutgoingUpdate(str(uuid.uuid4()), edit(doc, rng.randrange(1, 500))),))
                response = await client.post(f"/playlists/{playlist_id}/updates", json=body.to_json())
            took.setdefault(kind, []).append(time.perf_counter() - began)
            outcome = "ok" if response.is_success else f"http_{response.status_code}"
            tally[outcome] = tally.get(outcome, 0) + 1


def mixed(rig: Rig, requests: int, warmup: int, clients: int, seed: int) -> dict[str, Any]:
    tally: dict[str, int] = {}
    took: dict[str, list[float]] = {}

    async def crowd(per_client: int, seed: int) -> None:
        await asyncio.gather(*(_client(rig, index, per_client, random.Random(seed + index), tally, took)
                               for index in range(clients)))

    asyncio.run(crowd(warmup, -seed))
    tally.clear()
    took.clear()
    (server_before, database_before), load_before = rig.cpu_s(), time.process_time()
    started = time.monotonic()
    asyncio.run(crowd(requests // clients, seed))
    wall_s = time.monotonic() - started
    server_after, database_after = rig.cpu_s()
    server_s, database_s = server_after - server_before, database_after - database_before
    answered = sum(tally.values())
    return {"requests": answered, "failed": answered - tally.get("ok", 0), "wall_s": round(wall_s, 2),
            "rps": round(answered / wall_s, 1),
            "server_cpu_ms_per_request": round(1000 * server_s / max(1, answered), 3),
            "database_cpu_ms_per_request": round(1000 * database_s / max(1, answered), 3),
            "cpu_ms_per_request": round(1000 * (server_s + database_s) / max(1, answered), 3),
            "load_generator_cpu_s": round(time.process_time() - load_before, 2),
            **{f"mixed_{kind}_p50_ms": round(1000 * statistics.median(seconds), 2)
               for kind, seconds in sorted(took.items())}}


# -- pushes under concurrent writers, and fan-out -------------------------------------------------------------

def push_latency(rig: Rig, writers: int, pushes: int) -> dict[str, Any]:
    owner = rig.peer("alice", 0)
    playlist_id = owner.create()
    owner.invite(playlist_id, "bob")
    owner.close()
    start = threading.Barrier(writers)
    latencies: list[float] = []
    failures: list[str] = []

    def write(index: int) -> None:
        peer, doc = rig.peer(USERS[index % 2], index), PlaylistDoc.create(playlist_id)
        start.wait()
        for step in range(pushes):
            data = edit(doc, index * 1000 + step + 1, by=peer.user)
            began = time.perf_counter()
            response = peer.push(playlist_id, data)
            latencies.append(time.perf_counter() - began)
            if response.status_code != 200:
                failures.append(response.text)
        peer.close()

    threads = [threading.Thread(target=write, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"pushes": len(latencies), "failed": len(failures), **_percentiles("push", latencies)}


def fan_out(rig: Rig, events: int) -> dict[str, Any]:
    """A push through instance 0 until a stream on instance 1 (or 0, alone) has its ``updates`` event."""
    pusher, watcher = rig.peer("alice", 0), rig.peer("alice", 1)
    playlist_id = pusher.create()
    doc = PlaylistDoc.create(playlist_id)
    stream = Listener(watcher.client, f"/playlists/{playlist_id}/events", since=0)
    latencies = []
    try:
        stream.until(lambda event: event[0] == "updates")
        for step in range(events):
            data = edit(doc, step + 1)
            began = time.perf_counter()
            assert pusher.push(playlist_id, data).status_code == 200
            stream.until(lambda event: event[0] == "updates")
            latencies.append(time.perf_counter() - began)
    finally:
        stream.close()
        pusher.close()
        watcher.close()
    return {"events": len(latencies), **_percentiles("fan_out", latencies)}


def _percentiles(name: str, seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {f"{name}_p50_ms": round(1000 * statistics.median(ordered), 2),
            f"{name}_p95_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1600, help="mixed requests per configuration")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests per client first")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients of the mixed workload")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writers to one playlist")
    parser.add_argument("--pushes", type=int, default=25, help="pushes per writer")
    parser.add_argument("--events", type=int, default=30, help="pushes whose fan-out is timed")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    figures: dict[str, Any] = {"clients": args.clients, "writers": args.writers, "spread": "clients over instances"}
    with tempfile.TemporaryDirectory(prefix="legato-fleet-") as scratch, running_cluster() as cluster:
        root = Path(scratch)
        build_demo(root / "demo", albums=1, seconds_per_track=6.0, progress=lambda _line: None)
        for engine, size in CONFIGURATIONS:
            name = f"{engine}_{size}"
            with rig(root / "demo", root / name, engine, size, cluster) as running:
                results = {**mixed(running, args.requests, args.warmup, args.clients, args.seed),
                           **push_latency(running, args.writers, args.pushes), **fan_out(running, args.events)}
            print(f"{name}: {results}", flush=True)
            figures.update({f"{name}.{key}": value for key, value in results.items()})
    for engine, size in CONFIGURATIONS[1:]:
        name = f"{engine}_{size}"
        for figure in ("rps", "cpu_ms_per_request", "push_p95_ms"):
            figures[f"{name}.{figure}_ratio_to_sqlite_1"] = round(
                figures[f"{name}.{figure}"] / max(figures[f"sqlite_1.{figure}"], 1e-9), 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
