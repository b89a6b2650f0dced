"""Benchmark of playlist sync (issue 6). Not a test: prints figures, then one JSON line.

  python benchmarks/playlists.py [--ops 20000] [--edits 60]

- edits/s on a 2,000-entry playlist (60 % moves, 20 % inserts, 20 % removes) through PlaylistDoc, against raw
  loro (LoroMovableList by index) and raw pycrdt (Array; a move is delete+insert, it has no move) in this run;
- the same mix through PlaylistSync (each edit also persisted in SQLite and queued);
- bytes per edit on the wire (the update, and the JSON push carrying it) and at rest (server log, snapshot);
- time for an edit on one client to reach a second client over loopback (SSE), p50/p95.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pycrdt
from loro import LoroDoc

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "client")]

from playlist_server import PlaylistServer

from client.api import ApiClient
from client.playlists import PlaylistChange, PlaylistSync
from sync import OutgoingUpdate, PlaylistDoc, PushRequest

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=20_000)
    parser.add_argument("--edits", type=int, default=60)
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
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
