"""Release day on loopback: an origin (admission control on), two nginx edges started by ``legato-server edge``,
and N asyncio clients (default 5000) that all press Play on a new album at T = 0. Each fetches the manifest and
the licence of track 1 from the origin (on one kept connection) and its first chunks through an edge (client i
uses edge i % 2), honouring 503 + Retry-After with jitter. Three cases, each on a fresh origin and fresh edges:
(a) no jitter, cold edges; (b) release jitter (uniform 0..bound, the album's 2000 ms), cold edges; (c) jitter and
edges warmed before T = 0 by ``server.warm``.
Figures per case: origin requests and peak origin requests/s (in 100 ms bins, and in the busiest sliding 1 s),
edge hit ratio, 503s served and retried, failed plays, p50/p99 time from T = 0 to the first audio byte, and the
most fetches of one slice the origin served, and the CPU the origin and the clients used. First it measures what
the origin answers per second, and its CPU per request, on /health, a manifest and a licence, and from that
whether the p99 goal is within reach for N clients on this machine. Draws
the origin's request rate of the three cases into docs/release_day.png (matplotlib, the ``bench`` extra).
Bounded: a client retries 503s (after Retry-After, with jitter) and errors until DEADLINE_S after T = 0, as an
app would before it shows the play failed. Prints human lines; the last is one JSON object.

    python -m benchmarks.release_day [--clients N] [--chunks K]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from benchmarks.instruments.crowd_http import Answer, Connection
from client.release_jitter import ReleaseJitter
from offline import Backoff
from server import releases, warm
from server.catalog import Catalog
from server.demo import build_demo
from server.edge import ACCESS_LOG
from tests.helpers.edge_cache import origin_requests, running_edge
from tests.helpers.own_server import own_server, server_pid

DEADLINE_S = 120.0
P99_GOAL_S = 2.2
JITTER_S = releases.DEFAULT_JITTER_MS / 1000  # the album's bound: it is ingested without one of its own
CAPACITY_S = 3.0
CAPACITY_CONNECTIONS = 32
CHUNK_BYTES = 65536
PNG = Path(__file__).resolve().parent.parent / "docs" / "release_day.png"
# The origin sized as one small box: what it admits at once and per second on each hot endpoint.
ORIGIN_LIMITS = {f"LEGATO_ADMIT_{endpoint}_{knob}": value for endpoint in ("MANIFEST", "LICENCE", "FILES")
                 for knob, value in (("CONCURRENCY", "32"), ("RATE", "800"), ("BURST", "200"))}


@dataclass(frozen=True)
class Case:
    name: str
    jitter: bool
    warmed: bool


CASES = (Case("a_no_jitter_cold", False, False), Case("b_jitter_cold", True, False),
         Case("c_jitter_warmed", True, True))


@dataclass
class Tally:
    retried_503: int = 0
    retried_errors: int = 0
    failed: int = 0
    first_byte_s: list[float] = field(default_factory=list)


class PlayFailed(Exception):
    """A client could not get what it needed before its deadline."""


async def _call(connection: Connection, path: str, headers: dict[str, str], t0: float, backoff: Backoff,
                tally: Tally) -> Answer:
    attempt = 0
    while True:
        try:
            response = await asyncio.wait_for(connection.get(path, headers), DEADLINE_S)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            tally.retried_errors += 1
            wait_s, failure = backoff.delay_s(attempt), f"{path}: {exc!r}"
        else:
            if response.status in (200, 206):
                return response
            if response.status != 503:
                raise PlayFailed(f"{path}: HTTP {response.status}")
            tally.retried_503 += 1
            retry_after = float(response.headers.get("retry-after", "1"))
            wait_s, failure = backoff.after_busy_s(attempt, retry_after), f"{path}: still 503"
        attempt += 1
        if time.monotonic() + wait_s - t0 > DEADLINE_S:
            raise PlayFailed(failure)
        await asyncio.sleep(wait_s)


async def _play(index: int, case: Case, origin: tuple[str, int], edge: tuple[str, int], token: str,
                album: dict[str, Any], released: datetime, t0: float, chunks: int, tally: Tally) -> None:
    rng = random.Random(index)
    track_id = int(album["tracks"][0]["id"])
    if case.jitter:
        jitter = ReleaseJitter(rng, clock=lambda: released)
        jitter.learn_albums([album])
        await asyncio.sleep(jitter.delay_s(track_id))
    backoff = Backoff(base_s=0.25, cap_s=4.0, rng=rng)
    auth = {"Authorization": f"Bearer {token}"}
    to_origin, to_edge = Connection(origin), Connection(edge)
    try:
        manifest = json.loads((await _call(to_origin, f"/tracks/{track_id}/manifest", auth, t0, backoff,
                                           tally)).body)
        file = next(f for f in manifest["files"] if f["quality"] == "high")
        await _call(to_origin, f"/licences/{file['id']}", auth, t0, backoff, tally)
        span = {"Range": f"bytes=0-{min(chunks * CHUNK_BYTES, int(file['size_bytes'])) - 1}"}
        await _call(to_edge, f"/files/{file['id']}", span, t0, backoff, tally)
    except PlayFailed:
        tally.failed += 1
        return
    finally:
        to_origin.close()
        to_edge.close()
    tally.first_byte_s.append(time.monotonic() - t0)


async def _crowd(case: Case, origin_url: str, edges: list[str], token: str, album: dict[str, Any],
                 released: datetime, clients: int, chunks: int) -> tuple[Tally, float]:
    origin, edge_a, edge_b = (_host_port(url) for url in (origin_url, *edges))
    tally = Tally()
    t0_wall, t0 = time.time(), time.monotonic()
    await asyncio.gather(*(_play(i, case, origin, (edge_a, edge_b)[i % 2], token, album, released, t0, chunks,
                                 tally) for i in range(clients)))
    return tally, t0_wall


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


@contextmanager
def _rig(data: Path, folder: Path) -> Iterator[tuple[str, list[str], Path, int]]:
    """An origin and two edges in front of it: their URLs, the origin's request log and its pid."""
    log = folder / "origin.log"
    with ExitStack() as stack:
        server = stack.enter_context(own_server(data, folder, {"LEGATO_REQUEST_LOG": str(log), **ORIGIN_LIMITS}))
        assert server.url is not None
        edges = [stack.enter_context(running_edge([server.url], folder / f"edge{n}")) for n in range(2)]
        yield server.url, edges, log, server_pid(server)


def _edge_hit_ratio(folder: Path, since: float) -> float:
    statuses: Counter[str] = Counter()
    for n in range(2):
        for line in (folder / f"edge{n}" / ACCESS_LOG).read_text().splitlines():
            parts = line.split(" ")
            if float(parts[0]) >= since and parts[2].startswith("/files/"):
                statuses[parts[-2]] += 1
    return statuses["HIT"] / max(1, sum(statuses.values()))


async def _hammer(target: tuple[str, int], path: str, headers: dict[str, str], seconds: float,
                  keep_alive: bool) -> int:
    """Requests answered 200 on ``path`` by CAPACITY_CONNECTIONS clients asking back to back for ``seconds``, each
    on one kept connection or on a new connection per request."""
    stop, answered = time.monotonic() + seconds, 0

    async def one_client() -> None:
        nonlocal answered
        connection = Connection(target, keep_alive)
        while time.monotonic() < stop:
            answer = await connection.get(path, headers)  # awaited first: ``x += await ...`` loses counts
            answered += answer.status == 200
        connection.close()

    await asyncio.gather(*(one_client() for _ in range(CAPACITY_CONNECTIONS)))
    return answered


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def origin_capacity(data: Path, root: Path, seconds: float = CAPACITY_S) -> dict[str, float]:
    """Requests/s the origin answers on /health, a manifest and a licence (admission off: limits far above the
    load), on kept connections and (``_new_conn``) on a new connection per request as a crowd's first request
    is; the load generator shares the machine. Also the origin process's CPU per answered request, which other
    load on the machine changes less: one core's worth of requests/s is 1000 / cpu_ms."""
    unlimited = {name: "1000000" for name in ORIGIN_LIMITS}
    with own_server(data, root / "capacity", unlimited) as server:
        assert server.url is not None
        pid = server_pid(server)
        token = str(httpx.post(f"{server.url}/auth/login", json={"username": "alice", "password": "alice-pw"})
                    .json()["token"])
        auth = {"Authorization": f"Bearer {token}"}
        file_id = httpx.get(f"{server.url}/tracks/1/manifest", headers=auth).json()["files"][0]["id"]
        target = _host_port(server.url)
        figures: dict[str, float] = {}
        for endpoint, path, headers in (("health", "/health", {}), ("manifest", "/tracks/1/manifest", auth),
                                        ("licence", f"/licences/{file_id}", auth)):
            for keep_alive, name in ((True, endpoint), (False, f"{endpoint}_new_conn")):
                cpu_before = cpu_s(pid)
                answered = asyncio.run(_hammer(target, path, headers, seconds, keep_alive))
                figures[f"{name}_rps"] = round(answered / seconds, 1)
                figures[f"{name}_cpu_ms"] = round(1000 * (cpu_s(pid) - cpu_before) / max(1, answered), 3)
        return figures


def _run_case(case: Case, data: Path, root: Path, clients: int, chunks: int) -> dict[str, Any]:
    folder = root / case.name
    with _rig(data, folder) as (origin_url, edges, log, origin_pid):
        login = httpx.post(f"{origin_url}/auth/login", json={"username": "alice", "password": "alice-pw"})
        token = str(login.json()["token"])
        album = httpx.get(f"{origin_url}/albums/1", headers={"Authorization": f"Bearer {token}"}).json()
        if case.warmed:
            warm.warm(folder / "data", edges, [1], progress=lambda line: None)
        released = datetime.now(UTC)
        catalog = Catalog.open(folder / "data")
        try:
            releases.set_release(catalog, 1, released)  # out now: T = 0 is the release instant
        finally:
            catalog.close()
        album["release_at"] = releases.format_instant(released)
        origin_cpu_s, clients_cpu_s, started = cpu_s(origin_pid), time.process_time(), time.monotonic()
        tally, t0 = asyncio.run(_crowd(case, origin_url, edges, token, album, released, clients, chunks))
        crowd_s = time.monotonic() - started
        origin_cpu_s, clients_cpu_s = cpu_s(origin_pid) - origin_cpu_s, time.process_time() - clients_cpu_s
        seen = [r for r in origin_requests(log) if r.at >= t0]
        hit_ratio = _edge_hit_ratio(folder, t0)
    offsets = [r.at - t0 for r in seen]
    bins = Counter(int(offset * 10) for offset in offsets)  # 100 ms bins
    last_bin = max(bins, default=0)
    peak_1s = max((sum(bins.get(b + k, 0) for k in range(10)) for b in range(min(bins, default=0), last_bin + 1)),
                  default=0)
    slices = Counter((r.path, r.byte_range) for r in seen if r.path.startswith("/files/") and r.status in (200, 206))
    first = sorted(tally.first_byte_s)
    return {"origin_requests": len(seen), "peak_origin_rps_100ms": 10 * max(bins.values(), default=0),
            "peak_origin_rps_1s": peak_1s, "edge_hit_ratio": round(hit_ratio, 4),
            "served_503": sum(r.status == 503 for r in seen), "retried_503": tally.retried_503,
            "retried_errors": tally.retried_errors, "failed_plays": tally.failed,
            "first_byte_p50_s": round(statistics.median(first), 3) if first else None,
            "first_byte_p99_s": round(first[min(len(first) - 1, int(0.99 * len(first)))], 3) if first else None,
            "max_origin_fetches_per_slice": max(slices.values(), default=0),
            # Where the time went: the crowd's wall time, and the CPU the origin and the clients used in it.
            "crowd_s": round(crowd_s, 2), "origin_cpu_s": round(origin_cpu_s, 2),
            "origin_cpu_ms_per_request": round(1000 * origin_cpu_s / max(1, len(seen)), 3),
            "clients_cpu_s": round(clients_cpu_s, 2),
            "rate_per_100ms": [bins.get(b, 0) for b in range(last_bin + 1)]}


def _reach(capacity: dict[str, float], clients: int) -> dict[str, Any]:
    """What this origin allows at all. A play costs a manifest on a new connection and a licence on the same one,
    so it starts at most ``1 / (1/manifest_new_conn_rps + 1/licence_rps)`` plays a second (and, given a core of
    its own, 1000 / (their cpu_ms)): the p99 goal needs N below 2.2 s of that. The peak ratio (a)/(c) in 100 ms
    bins is at most JITTER_S / 0.1 s (a wall the origin absorbs within one bin against an even ramp), and at most
    the origin's request rate over the ramp's (2 N requests over JITTER_S) when the wall is flattened to what the
    origin can answer."""
    plays_per_s = 1.0 / (1.0 / max(capacity["manifest_new_conn_rps"], 1e-9)
                         + 1.0 / max(capacity["licence_rps"], 1e-9))
    plays_per_core_s = 1000.0 / max(capacity["manifest_new_conn_cpu_ms"] + capacity["licence_cpu_ms"], 1e-9)
    ratio_ceiling = min(JITTER_S / 0.1, 2 * plays_per_s / (2 * clients / JITTER_S))
    return {"origin_plays_per_s": round(plays_per_s, 1), "origin_plays_per_core_s": round(plays_per_core_s, 1),
            "plays_startable_by_p99_goal": int(plays_per_s * P99_GOAL_S),
            "plays_startable_by_p99_goal_on_a_core": int(plays_per_core_s * P99_GOAL_S),
            "p99_goal_reachable_for_clients": plays_per_s * P99_GOAL_S >= clients,
            "peak_ratio_100ms_ceiling": round(ratio_ceiling, 2)}


def _draw(results: dict[str, dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(9, 4.5))
    for name, figures in results.items():
        rates = figures["rate_per_100ms"]
        last = min(len(rates), max((i for i, r in enumerate(rates) if r), default=0) + 5)
        axes.plot([i / 10 for i in range(last)], [r * 10 for r in rates[:last]], label=name.replace("_", " "))
    axes.set_xlabel("seconds after the release (T = 0)")
    axes.set_ylabel("origin requests per second (100 ms bins)")
    axes.set_title("Release day: the origin's request rate")
    axes.legend()
    figure.tight_layout()
    figure.savefig(PNG, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=5000, help="simulated clients (default: 5000)")
    parser.add_argument("--chunks", type=int, default=2, help="chunks of track 1 each client fetches (default: 2)")
    parser.add_argument("--capacity-only", action="store_true",
                        help="measure only the origin's requests/s on /health, a manifest and a licence")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="legato-release-day-") as scratch:
        root = Path(scratch)
        build_demo(root / "demo", albums=1, seconds_per_track=20.0)
        capacity = origin_capacity(root / "demo", root)
        print(f"origin capacity: {capacity}", flush=True)
        if args.capacity_only:
            print(json.dumps(capacity))
            return
        results: dict[str, dict[str, Any]] = {}
        for case in CASES:
            results[case.name] = _run_case(case, root / "demo", root, args.clients, args.chunks)
            shown = {k: v for k, v in results[case.name].items() if k != "rate_per_100ms"}
            print(f"{case.name}: {shown}", flush=True)
    _draw(results)
    a, c = results["a_no_jitter_cold"], results["c_jitter_warmed"]
    figures: dict[str, Any] = {"clients": args.clients, "png": str(PNG.relative_to(PNG.parent.parent)),
                              **{f"origin.{k}": v for k, v in capacity.items()}}
    for name, values in results.items():
        figures.update({f"{name}.{k}": v for k, v in values.items() if k != "rate_per_100ms"})
    for window in ("100ms", "1s"):
        for other in ("b_jitter_cold", "c_jitter_warmed"):
            figures[f"peak_rps_{window}_ratio_a_over_{other[0]}"] = round(
                a[f"peak_origin_rps_{window}"] / max(1, results[other][f"peak_origin_rps_{window}"]), 2)
    figures.update(_reach(capacity, args.clients))
    figures["goal_peak_falls_10x"] = figures["peak_rps_100ms_ratio_a_over_c"] >= 10
    figures["goal_no_failed_play"] = all(v["failed_plays"] == 0 for v in results.values())
    figures["goal_p99_first_byte_le_2_2s"] = c["first_byte_p99_s"] is not None and c["first_byte_p99_s"] <= P99_GOAL_S
    figures["goal_one_fetch_per_slice_per_edge"] = c["max_origin_fetches_per_slice"] <= 2  # two edges
    print(f"drew {PNG}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
