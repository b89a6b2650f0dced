"""Benchmark of search at catalog scale (issue 15). Not a test: prints figures, then one JSON line.

  python -m benchmarks.search [--tracks 1000000] [--queries 1000] [--baseline-queries 40] [--seed 15]

Builds a metadata-only catalog with ``catalog synth``, times the index build and measures its size, then runs the
same queries (clean, 1-typo, 2-typo, prefix: a quarter each) through the real server's HTTP /search and in
process: p50/p95/p99 latency, MRR@10 of typo'd queries against the same queries typed clean, the server's RSS.
Baselines, same run: the old rapidfuzz scan on the same catalog and queries (a subset: it takes seconds per query),
and for HTTP one authenticated round trip (GET /me), the server's own floor.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from rapidfuzz.distance import OSA

from benchmarks.instruments.rapidfuzz_scan import TrackNames, rank_tracks
from client.bundled import BundledServer
from server import auth, browse
from server.catalog import Catalog
from server.catalog_synth import synth
from server.search_index import SearchIndex
from tests.helpers.own_server import peak_rss_bytes, server_pid

KINDS = ("clean", "typo1", "typo2", "prefix")
USER = ("bench", "bench-pw", "GB")
LIMIT = 10
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    clean: str  # the same query typed without typos
    target: int  # the track it is looking for


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _typo(word: str, edits: int, chooser: random.Random) -> str:
    """``word`` with exactly ``edits`` edits (substitute, delete, insert, swap neighbours) by OSA distance."""
    while True:
        typed = word
        for _ in range(edits):
            at = chooser.randrange(1, len(typed) - 1)
            operation = chooser.choice(("substitute", "delete", "insert", "swap"))
            if operation == "substitute":
                typed = typed[:at] + chooser.choice(_LETTERS) + typed[at + 1:]
            elif operation == "delete":
                typed = typed[:at] + typed[at + 1:]
            elif operation == "insert":
                typed = typed[:at] + chooser.choice(_LETTERS) + typed[at:]
            else:
                typed = typed[:at] + typed[at + 1] + typed[at] + typed[at + 2:]
        if OSA.distance(word, typed) == edits:
            return typed


def make_queries(catalog: Catalog, count: int, seed: int) -> list[Query]:
    """``count`` queries for random GB-licensed tracks: title and artist's first word, clean or damaged."""
    chooser = random.Random(seed)
    top = int((catalog.query_one("SELECT MAX(id) AS top FROM tracks") or {"top": 0})["top"])
    queries: list[Query] = []
    while len(queries) < count:
        kind = KINDS[len(queries) % len(KINDS)]
        row = catalog.query_one("SELECT tracks.id, tracks.title, artists.name FROM tracks JOIN artists ON "
                                "artists.id = tracks.artist_id WHERE tracks.id = ? AND tracks.regions LIKE "
                                "'%\"GB\"%'", [chooser.randint(1, top)])
        if row is None:
            continue
        words = f"{row['title']} {str(row['name']).split()[0]}".lower().split()
        clean = " ".join(words)
        if kind == "prefix":
            last = words[-1]
            if len(last) < 4:
                continue
            text = " ".join([*words[:-1], last[:max(3, len(last) * 2 // 3)]])
        elif kind in ("typo1", "typo2"):
            edits, shortest = (1, 5) if kind == "typo1" else (2, 9)
            long_words = [i for i, word in enumerate(words) if len(word) >= shortest]
            if not long_words:
                continue
            at = chooser.choice(long_words)
            text = " ".join(_typo(w, edits, chooser) if i == at else w for i, w in enumerate(words))
        else:
            text = clean
        queries.append(Query(kind, text, clean, int(row["id"])))
    return queries


def reciprocal_rank(ids: list[int], target: int) -> float:
    return 1.0 / (ids.index(target) + 1) if target in ids[:LIMIT] else 0.0


def timed(run: Callable[[str], list[int]], queries: list[Query], text: Callable[[Query], str]
          ) -> tuple[list[float], list[float]]:
    """Per query: seconds taken and the reciprocal rank of its target."""
    seconds, ranks = [], []
    for query in queries:
        started = time.perf_counter()
        ids = run(text(query))
        seconds.append(time.perf_counter() - started)
        ranks.append(reciprocal_rank(ids, query.target))
    return seconds, ranks


def latency(label: str, seconds: list[float]) -> dict[str, float]:
    figures = {"p50_ms": percentile(seconds, 0.5) * 1000, "p95_ms": percentile(seconds, 0.95) * 1000,
               "p99_ms": percentile(seconds, 0.99) * 1000}
    print(f"{label}: p50 {figures['p50_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms, "
          f"p99 {figures['p99_ms']:.2f} ms over {len(seconds)} queries")
    return figures


def mrr_figures(label: str, queries: list[Query], ranks: list[float], clean_ranks: list[float]) -> dict[str, float]:
    typo = [r for q, r in zip(queries, ranks, strict=True) if q.kind.startswith("typo")]
    typed_clean = [r for q, r in zip(queries, clean_ranks, strict=True) if q.kind.startswith("typo")]
    figures = {"mrr_clean": statistics.fmean(typed_clean), "mrr_typo": statistics.fmean(typo)}
    figures["mrr_typo_vs_clean"] = figures["mrr_typo"] / figures["mrr_clean"] if figures["mrr_clean"] else 0.0
    for kind in KINDS:
        figures[f"mrr_{kind}"] = statistics.fmean(r for q, r in zip(queries, ranks, strict=True) if q.kind == kind)
    print(f"{label}: MRR@10 typo'd {figures['mrr_typo']:.3f} vs the same typed clean {figures['mrr_clean']:.3f} "
          f"(x{figures['mrr_typo_vs_clean']:.3f}); by kind " + ", ".join(
              f"{kind} {figures[f'mrr_{kind}']:.3f}" for kind in KINDS))
    return figures


def run(tracks: int, query_count: int, baseline_count: int, seed: int) -> dict[str, object]:
    figures: dict[str, object] = {"tracks": tracks, "queries": query_count, "loadavg_start": load_average()}
    with tempfile.TemporaryDirectory(prefix="legato-search-bench-") as temp:
        data_dir = Path(temp) / "server"
        started = time.perf_counter()
        synth(data_dir, tracks, seed)
        figures["synth_s"] = time.perf_counter() - started
        print(f"catalog synth: {tracks} tracks in {figures['synth_s']:.1f} s")
        catalog = Catalog.open(data_dir)
        auth.create_user(catalog, *USER)
        index = SearchIndex(data_dir)
        started = time.perf_counter()
        index.rebuild(catalog)
        figures["index_build_s"] = time.perf_counter() - started
        size = sum(path.stat().st_size for path in index.path.rglob("*") if path.is_file())
        figures["index_bytes"] = size
        print(f"index: {index.documents} documents built in {figures['index_build_s']:.1f} s, "
              f"{size / 1e6:.1f} MB on disk")
        queries = make_queries(catalog, query_count, seed)

        def in_process(text: str) -> list[int]:
            return [t["id"] for t in browse.search(catalog, index, text, USER[2], LIMIT)["tracks"]]

        in_process(queries[0].text)  # the first query opens the index's files; measured apart over HTTP
        seconds, ranks = timed(in_process, queries, lambda q: q.text)
        _, clean_ranks = timed(in_process, queries, lambda q: q.clean)
        figures["in_process"] = {**latency("in process", seconds),
                                 **mrr_figures("in process", queries, ranks, clean_ranks)}

        server = BundledServer(data_dir)
        server.start()
        try:
            with httpx.Client(base_url=str(server.url), timeout=60) as client:
                token = client.post("/auth/login", json={"username": USER[0], "password": USER[1]}).json()["token"]
                client.headers["Authorization"] = f"Bearer {token}"

                def over_http(text: str) -> list[int]:
                    response = client.get("/search", params={"q": text, "limit": LIMIT})
                    response.raise_for_status()
                    return [t["id"] for t in response.json()["tracks"]]

                def me(_: str) -> list[int]:
                    return [client.get("/me").status_code]

                first, _ = timed(over_http, queries[:1], lambda q: q.text)
                figures["http_first_query_ms"] = first[0] * 1000
                # Each search is followed by one GET /me, so the floor sees the same moments of the machine's load.
                seconds, ranks, round_trips = [], [], []
                for query in queries:
                    took, rank = timed(over_http, [query], lambda q: q.text)
                    seconds += took
                    ranks += rank
                    round_trips += timed(me, [query], lambda q: q.text)[0]
                figures["http"] = {**latency("HTTP /search", seconds),
                                   **{k: v for k, v in mrr_figures("HTTP /search", queries, ranks,
                                                                    clean_ranks).items() if k == "mrr_typo"}}
                figures["http_me"] = latency("HTTP GET /me (an authenticated round trip, for scale)", round_trips)
                figures["http_search_p95_vs_me_p95"] = percentile(seconds, 0.95) / percentile(round_trips, 0.95)
                figures["server_peak_rss_bytes"] = rss = peak_rss_bytes(server_pid(server))
                print(f"server: first query {first[0] * 1000:.1f} ms, peak RSS {rss / 1e6:.0f} MB")
        finally:
            server.stop()

        subset = [q for i, q in enumerate(queries) if i < baseline_count]
        started = time.perf_counter()
        names = TrackNames.load(catalog)
        figures["baseline_load_s"] = time.perf_counter() - started
        seconds, ranks = timed(lambda text: rank_tracks(names, text, LIMIT), subset, lambda q: q.text)
        _, clean_ranks = timed(lambda text: rank_tracks(names, text, LIMIT), subset, lambda q: q.clean)
        figures["baseline"] = {**latency("baseline rapidfuzz scan (tracks only)", seconds),
                               **mrr_figures("baseline rapidfuzz scan", subset, ranks, clean_ranks)}
        new_seconds, _ = timed(in_process, subset, lambda q: q.text)
        new_p50 = percentile(new_seconds, 0.5)
        figures["baseline_p50_vs_index_p50"] = percentile(seconds, 0.5) / new_p50
        print(f"baseline: names loaded in {figures['baseline_load_s']:.1f} s; on the same {len(subset)} queries "
              f"its p50 is x{figures['baseline_p50_vs_index_p50']:.0f} the index's (in process)")
        catalog.close()
    figures["loadavg_end"] = load_average()
    print(f"load average (1 min) at start {figures['loadavg_start']}, at end {figures['loadavg_end']}")
    return figures


def load_average() -> float:
    """The machine's 1-minute load average: the figures of a run on a busy machine say so."""
    return os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--baseline-queries", type=int, default=40)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    figures = run(args.tracks, args.queries, args.baseline_queries, args.seed)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
