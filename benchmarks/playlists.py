"""Benchmark of playlist sync (issue 6). Not a test: prints figures, then one JSON line.

  python -m benchmarks.playlists [--ops 20000] [--edits 60]

- edits/s on a 2,000-entry playlist (60 % moves, 20 % inserts, 20 % removes) through PlaylistDoc, against raw
  loro (LoroMovableList by index) and raw pycrdt (Array; a move is delete+insert, it has no move) in this run;
- the same mix through PlaylistSync (each edit also persisted in SQLite and queued);
- bytes per edit on the wire (the update, and the JSON push carrying it) and at rest (server log, snapshot);
- time for an edit on one client to reach a second client over loopback (SSE), p50/p95;
- checking one pushed update, p50/p95: in an update-worker process (merge_push, round trip proven) against
  the in-process import_updates the server used before (same playlist, same updates, this run);
- one user's push latency over HTTP while another user pushes ~240 KB updates to another playlist, as a ratio
  to the same pushes on an idle server: with the two playlists on different workers, and on the same one.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pycrdt
from loro import LoroDoc

from client.api import ApiClient
from client.playlists import PlaylistChange, PlaylistSync
from server.update_pool import UpdateWorkers
from sync import OutgoingUpdate, PlaylistDoc, PushRequest
from tests.helpers.playlist_server import PlaylistServer
from tests.helpers.server_api import description_updates

ENTRIES = 2_000


def entry_value(track: int) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "track": track, "by": "alice", "at": 1_700_000_000_000}


def schedule(ops: int, seed: int) -> list[tuple[str, float, float]]:
    rng = random.Random(seed)
    kinds = rng.choices(["move", "insert", "remove"], weights=[60, 20, 20], k=ops)
    return [(kind, rng.random(), rng.random()) for kind in kinds]


def run_playlist_doc(plan: list[tuple[str, float, float]]) -> tuple[float, PlaylistDoc, list[bytes]]:
    doc = PlaylistDoc.create("bench")
    for track in range(ENTRIES):
        doc.add(track + 1, "alice")
    updates = []
    ids = doc.entry_ids()  # the caller's view of positions, as a UI list model would hold it
    started = time.perf_counter()
    for kind, a, b in plan:
        if kind == "move":
            source, target = int(a * len(ids)), int(b * len(ids))
            doc.move(ids[source], target)
            ids.insert(target, ids.pop(source))
        elif kind == "insert":
            position = int(a * (len(ids) + 1))
            ids.insert(position, doc.add(7, "alice", position).entry_id)
        else:
            doc.remove(ids.pop(int(a * len(ids))))
    elapsed = time.perf_counter() - started
    for kind, a, b in plan[:500]:  # the wire size of single edits, measured apart from the timing
        version = doc.version()
        ids = doc.entry_ids()
        if kind == "move":
            doc.move(ids[int(a * len(ids))], int(b * len(ids)))
        elif kind == "insert":
            doc.add(7, "alice", int(a * (len(doc) + 1)))
        else:
            doc.remove(ids[int(a * len(ids))])
        updates.append(doc.export_since(version))
    return len(plan) / elapsed, doc, updates


def run_loro(plan: list[tuple[str, float, float]]) -> float:
    doc = LoroDoc()  # type: ignore[no-untyped-call]
    entries = doc.get_movable_list("entries")
    for track in range(ENTRIES):
        entries.push(entry_value(track + 1))
    doc.commit()
    started = time.perf_counter()
    for kind, a, b in plan:
        length = len(entries)
        if kind == "move":
            entries.mov(int(a * length), int(b * length))
        elif kind == "insert":
            entries.insert(int(a * (length + 1)), entry_value(7))
        else:
            entries.delete(int(a * length), 1)
        doc.commit()
    return len(plan) / (time.perf_counter() - started)


def run_pycrdt(plan: list[tuple[str, float, float]]) -> float:
    doc = pycrdt.Doc()
    entries = doc.get("entries", type=pycrdt.Array)
    entries.extend([entry_value(track + 1) for track in range(ENTRIES)])
    started = time.perf_counter()
    for kind, a, b in plan:
        length = len(entries)
        if kind == "move":
            source, target = int(a * length), int(b * length)
            value = entries.pop(source)
            entries.insert(target, value)
        elif kind == "insert":
            entries.insert(int(a * (length + 1)), entry_value(7))
        else:
            entries.pop(int(a * length))
    return len(plan) / (time.perf_counter() - started)


def run_sync_core(plan: list[tuple[str, float, float]], folder: Path) -> float:
    offline = ApiClient("http://127.0.0.1:9")
    offline.user = {"name": "alice"}  # never logs in: the core stays offline
    core = PlaylistSync(offline, folder)
    core.set_online(False)
    playlist_id = core.create("bench")
    ids = [core.add(playlist_id, track + 1).entry_id for track in range(ENTRIES)]
    started = time.perf_counter()
    for kind, a, b in plan:
        if kind == "move":
            source, target = int(a * len(ids)), int(b * len(ids))
            core.move(playlist_id, ids[source], target)
            ids.insert(target, ids.pop(source))
        elif kind == "insert":
            position = int(a * (len(ids) + 1))
            ids.insert(position, core.add(playlist_id, 7, position).entry_id)
        else:
            core.remove(playlist_id, ids.pop(int(a * len(ids))))
    rate = len(plan) / (time.perf_counter() - started)
    core.close()
    return rate


def remote_latency(folder: Path, edits: int) -> tuple[list[float], int, int]:
    server = PlaylistServer(folder / "server", ("alice", "bob"))
    arrived: dict[int, float] = {}
    condition = threading.Condition()

    def on_change(change: PlaylistChange) -> None:
        if change.remote and not change.gone:
            with condition:
                for entry in alice.state(change.playlist_id).entries:
                    arrived.setdefault(entry.track_id, time.perf_counter())
                condition.notify_all()

    alice = PlaylistSync(server.session("alice"), folder / "alice", on_change=on_change)
    bob = PlaylistSync(server.session("bob"), folder / "bob")
    try:
        playlist_id = bob.create("latency", collaborative=True)
        bob.invite(playlist_id, "alice")
        alice.sync()
        alice.start()
        bob.start()
        latencies = []
        for track in range(1, edits + 1):
            started = time.perf_counter()
            bob.add(playlist_id, track)
            with condition:
                if not condition.wait_for(lambda track=track: track in arrived, 10):  # type: ignore[misc]
                    raise RuntimeError(f"edit {track} never reached the second client")
            latencies.append(arrived[track] - started)
        log_bytes = sum(len(row) for row in _logged(server, playlist_id))
        return latencies, log_bytes, edits
    finally:
        alice.close()
        bob.close()
        server.stop()


def _logged(server: PlaylistServer, playlist_id: str) -> list[bytes]:
    from server.catalog import Catalog

    catalog = Catalog.open(server.data_dir)
    try:
        rows = catalog.query("SELECT data FROM playlist_updates WHERE playlist_id = ? AND data IS NOT NULL",
                             [playlist_id])
        return [bytes(row["data"]) for row in rows]
    finally:
        catalog.close()


def percentiles_ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


def single_edits(doc: PlaylistDoc, count: int, rng: random.Random) -> list[bytes]:
    updates = []
    for _ in range(count):
        version = doc.version()
        ids = doc.entry_ids()
        if ids and rng.random() < 0.5:
            doc.move(rng.choice(ids), rng.randrange(len(ids)))
        else:
            doc.add(rng.randrange(1, 500), "alice", rng.randrange(len(ids) + 1))
        updates.append(doc.export_since(version))
    return updates


def check_latency(edits: int) -> tuple[list[float], list[float]]:
    """Per-update check time: the old in-process import_updates, and merge_push in a worker process."""
    rng = random.Random(11)
    author = PlaylistDoc.create("bench-check")
    for track in range(ENTRIES):
        author.add(track + 1, "alice")
    snapshot = author.snapshot()
    updates = single_edits(author, edits, rng)
    replica = PlaylistDoc.from_updates("bench-check", [snapshot])
    in_process = []
    for update in updates:
        started = time.perf_counter()
        replica.import_updates([update])
        in_process.append(time.perf_counter() - started)
    workers = UpdateWorkers(size=1)
    workers.start()
    try:
        workers.merge("bench-check", 0, "alice", [], lambda: [snapshot], False)  # load it once, untimed
        pooled = []
        for seq, update in enumerate(updates):
            started = time.perf_counter()
            workers.merge("bench-check", seq, "alice", [update], lambda: [snapshot], False)
            pooled.append(time.perf_counter() - started)
    finally:
        workers.close()
    return in_process, pooled


def ids_by_worker() -> tuple[str, str, str]:
    """Three playlist ids: the first two handled by one update worker, the third by the other."""
    slots = UpdateWorkers(size=2)  # the server's default pool size; nothing is started
    first = str(uuid.uuid4())
    same = other = None
    while same is None or other is None:
        candidate = str(uuid.uuid4())
        if slots.slot_of(candidate) == slots.slot_of(first):
            same = same or candidate
        else:
            other = other or candidate
    return first, same, other


def contention(folder: Path, pushes: int) -> dict[str, float]:
    """Alice's single-edit push latency, idle and while bob pushes ~240 KB updates to another playlist."""
    server = PlaylistServer(folder / "contention", ("alice", "bob"))
    clients = {user: httpx.Client(base_url=server.url, timeout=120,
                                  headers={"Authorization": f"Bearer {server.token(user)}"})
               for user in ("alice", "bob")}
    rng = random.Random(12)
    alice_id, bob_same_id, bob_other_id = ids_by_worker()
    alice_doc = PlaylistDoc.create(alice_id)
    clients["alice"].post("/playlists", json={"id": alice_id})

    def alice_pushes() -> list[float]:
        latencies = []
        for update in single_edits(alice_doc, pushes, rng):
            body = PushRequest((OutgoingUpdate(str(uuid.uuid4()), update),)).to_json()
            started = time.perf_counter()
            response = clients["alice"].post(f"/playlists/{alice_id}/updates", json=body)
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
        return latencies

    def under_load(bob_id: str) -> list[float]:
        stop = threading.Event()
        bob_doc = PlaylistDoc.create(bob_id)
        clients["bob"].post("/playlists", json={"id": bob_id})
        batch = description_updates(bob_doc, random.Random(13), 8)  # ~2 MB per push; re-pushed under fresh ids

        def bob() -> None:
            while not stop.is_set():
                body = PushRequest(tuple(OutgoingUpdate(str(uuid.uuid4()), u) for u in batch)).to_json()
                clients["bob"].post(f"/playlists/{bob_id}/updates", json=body)

        thread = threading.Thread(target=bob, daemon=True)
        thread.start()
        try:
            return alice_pushes()
        finally:
            stop.set()
            thread.join()

    try:
        alice_pushes()  # warm up: the worker loads alice's playlist
        idle = alice_pushes()
        other_worker = under_load(bob_other_id)
        same_worker = under_load(bob_same_id)
    finally:
        for client in clients.values():
            client.close()
        server.stop()
    idle_p50, idle_p95 = percentiles_ms(idle)
    other_p50, other_p95 = percentiles_ms(other_worker)
    same_p50, same_p95 = percentiles_ms(same_worker)
    return {"push_idle_ms_p50": idle_p50, "push_idle_ms_p95": idle_p95,
            "push_busy_other_worker_ms_p50": other_p50, "push_busy_other_worker_ms_p95": other_p95,
            "push_busy_same_worker_ms_p50": same_p50, "push_busy_same_worker_ms_p95": same_p95}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=20_000)
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--pushes", type=int, default=60, help="pushes per push-latency measurement")
    args = parser.parse_args()
    plan = schedule(args.ops, seed=6)
    ours, doc, updates = run_playlist_doc(plan)
    loro_rate, pycrdt_rate = run_loro(plan), run_pycrdt(plan)
    update_bytes = statistics.mean(len(update) for update in updates)
    push_json_bytes = statistics.mean(
        len(json.dumps(PushRequest((OutgoingUpdate(str(uuid.uuid4()), update),)).to_json())) for update in updates)
    total_ops = ENTRIES + len(plan) + len(updates)
    snapshot_bytes_per_op = len(doc.snapshot()) / total_ops
    with tempfile.TemporaryDirectory(prefix="legato-bench-") as folder:
        core_rate = run_sync_core(plan[: min(len(plan), 2_000)], Path(folder) / "core")
        latencies, log_bytes, logged = remote_latency(Path(folder), args.edits)
        busy = contention(Path(folder), args.pushes)
    in_process, pooled = check_latency(args.pushes * 2)
    check_in_process_p50, check_in_process_p95 = percentiles_ms(in_process)
    check_pool_p50, check_pool_p95 = percentiles_ms(pooled)
    p50 = statistics.median(latencies) * 1000
    p95 = sorted(latencies)[max(0, int(len(latencies) * 0.95) - 1)] * 1000
    figures = {
        "entries": ENTRIES, "ops": len(plan),
        "playlist_doc_ops_per_s": round(ours), "loro_raw_ops_per_s": round(loro_rate),
        "pycrdt_raw_ops_per_s": round(pycrdt_rate),
        "ratio_vs_loro": round(ours / loro_rate, 3), "ratio_vs_pycrdt": round(ours / pycrdt_rate, 3),
        "sync_core_edits_per_s": round(core_rate),
        "wire_update_bytes_per_op": round(update_bytes, 1), "wire_push_json_bytes_per_op": round(push_json_bytes, 1),
        "rest_server_log_bytes_per_op": round(log_bytes / logged, 1),
        "rest_snapshot_bytes_per_op": round(snapshot_bytes_per_op, 1),
        "remote_edit_latency_ms_p50": round(p50, 2), "remote_edit_latency_ms_p95": round(p95, 2),
        "check_in_process_ms_p50": round(check_in_process_p50, 2),
        "check_in_process_ms_p95": round(check_in_process_p95, 2),
        "check_worker_pool_ms_p50": round(check_pool_p50, 2), "check_worker_pool_ms_p95": round(check_pool_p95, 2),
        "check_pool_vs_in_process_p50": round(check_pool_p50 / check_in_process_p50, 2),
        "check_pool_vs_in_process_p95": round(check_pool_p95 / check_in_process_p95, 2),
        **{name: round(value, 2) for name, value in busy.items()},
        "busy_other_worker_vs_idle_p50": round(busy["push_busy_other_worker_ms_p50"] / busy["push_idle_ms_p50"], 2),
        "busy_other_worker_vs_idle_p95": round(busy["push_busy_other_worker_ms_p95"] / busy["push_idle_ms_p95"], 2),
        "busy_same_worker_vs_idle_p50": round(busy["push_busy_same_worker_ms_p50"] / busy["push_idle_ms_p50"], 2),
        "busy_same_worker_vs_idle_p95": round(busy["push_busy_same_worker_ms_p95"] / busy["push_idle_ms_p95"], 2),
    }
    print(f"PlaylistDoc: {ours:,.0f} ops/s on {ENTRIES} entries (60/20/20 move/insert/remove), "
          f"{ours / loro_rate:.2f}x raw loro ({loro_rate:,.0f}/s), {ours / pycrdt_rate:.2f}x raw pycrdt "
          f"({pycrdt_rate:,.0f}/s, move as delete+insert)")
    print(f"PlaylistSync (edit + SQLite persist + queue): {core_rate:,.0f} edits/s")
    print(f"wire: {update_bytes:.1f} B per single-edit update, {push_json_bytes:.1f} B as a JSON push")
    print(f"rest: {log_bytes / logged:.1f} B per op in the server log, {snapshot_bytes_per_op:.1f} B per op "
          f"in a snapshot ({total_ops} ops of history)")
    print(f"remote edit to second client over loopback (SSE): p50 {p50:.1f} ms, p95 {p95:.1f} ms "
          f"({len(latencies)} edits)")
    print(f"checking one pushed update ({ENTRIES} entries): in-process import_updates p50 "
          f"{check_in_process_p50:.2f} ms, p95 {check_in_process_p95:.2f} ms; worker pool (merge_push, round trip "
          f"proven) p50 {check_pool_p50:.2f} ms, p95 {check_pool_p95:.2f} ms")
    print(f"one user's push over HTTP: idle p50 {busy['push_idle_ms_p50']:.1f} ms, p95 "
          f"{busy['push_idle_ms_p95']:.1f} ms; while another pushes ~240 KB updates to a playlist on another "
          f"worker p50 {busy['push_busy_other_worker_ms_p50']:.1f} ms, p95 {busy['push_busy_other_worker_ms_p95']:.1f}"
          f" ms; on the same worker p50 {busy['push_busy_same_worker_ms_p50']:.1f} ms, p95 "
          f"{busy['push_busy_same_worker_ms_p95']:.1f} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
