"""Benchmark of live sharing (issue 11). Not a test: prints figures, then one JSON line.

  python -m benchmarks.share_latency [--shares 30] [--tracks 20]

Time from the owner's Share (``invite``) to the collaborator's running sync core holding the playlist with all its
tracks, over loopback, with no action on the collaborator's side; against, in the same run, one authenticated
HTTP round trip (GET /me) as the baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from client.playlists import PlaylistChange, PlaylistSync
from tests.helpers.playlist_server import PlaylistServer


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def share_latencies(folder: Path, shares: int, tracks: int) -> tuple[list[float], list[float]]:
    server = PlaylistServer(folder / "server", ("owner", "guest"))
    owner_api, guest_api = server.session("owner"), server.session("guest")
    seen = threading.Condition()
    complete: dict[str, float] = {}

    def on_change(change: PlaylistChange) -> None:
        if change.remote and not change.gone:
            state = guest.state(change.playlist_id)
            if len(state.entries) == tracks:
                with seen:
                    complete.setdefault(change.playlist_id, time.perf_counter())
                    seen.notify_all()

    owner = PlaylistSync(owner_api, folder / "owner")
    guest = PlaylistSync(guest_api, folder / "guest", on_change=on_change)
    try:
        owner.start()
        guest.start()
        if not guest.wait_idle(30):
            raise RuntimeError("the guest's sync never settled")
        latencies, round_trips = [], []
        for _ in range(shares):
            started = time.perf_counter()
            guest_api.request_json("GET", "/me")
            round_trips.append(time.perf_counter() - started)
            playlist_id = owner.create("Shared", collaborative=True)
            for track in range(1, tracks + 1):
                owner.add(playlist_id, track)
            owner.sync(playlist_id)
            started = time.perf_counter()
            owner.invite(playlist_id, "guest")
            with seen:
                if not seen.wait_for(lambda playlist_id=playlist_id: playlist_id in complete, 10):
                    raise RuntimeError(f"playlist {playlist_id} never became visible to the guest")
            latencies.append(complete[playlist_id] - started)
        return latencies, round_trips
    finally:
        owner.close()
        guest.close()
        owner_api.close()
        guest_api.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shares", type=int, default=30)
    parser.add_argument("--tracks", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="share-bench-") as folder:
        latencies, round_trips = share_latencies(Path(folder), args.shares, args.tracks)
    p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
    rtt = statistics.median(round_trips) * 1000
    print(f"share to visible on the collaborator's device ({args.tracks} tracks, loopback): "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(latencies)} shares")
    print(f"baseline, one authenticated round trip (GET /me): p50 {rtt:.2f} ms; share p50 is {p50 / rtt:.1f}x")
    print(json.dumps({"shares": len(latencies), "tracks": args.tracks, "share_visible_ms_p50": round(p50, 2),
                      "share_visible_ms_p95": round(p95, 2), "round_trip_ms_p50": round(rtt, 3),
                      "share_p50_over_round_trip": round(p50 / rtt, 1)}))


if __name__ == "__main__":
    main()
