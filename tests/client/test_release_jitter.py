"""The wait at a release instant: drawn uniformly within the album's bound (checked over many draws with a seeded
RNG, never by wall time), once per album, only for an album just released, and before the manifest call."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from client.api import ApiClient
from client.release_jitter import RECENT_S, ReleaseJitter

RELEASED = datetime(2026, 12, 4, tzinfo=UTC)
DRAWS = 4000


def album(album_id: int, bound_ms: int = 2000, release_at: str | None = "2026-12-04T00:00:00Z") -> dict[str, Any]:
    return {"id": album_id, "release_at": release_at, "release_jitter_ms": bound_ms,
            "tracks": [{"id": album_id * 10 + n, "album_id": album_id} for n in range(3)]}


def test_first_calls_wait_uniformly_within_the_albums_bound() -> None:
    jitter = ReleaseJitter(random.Random(17), clock=lambda: RELEASED + timedelta(milliseconds=5))
    jitter.learn_albums([album(n, bound_ms=1500) for n in range(1, DRAWS + 1)])
    delays = [jitter.delay_s(n * 10) for n in range(1, DRAWS + 1)]
    assert min(delays) >= 0.0 and max(delays) <= 1.5
    # Kolmogorov-Smirnov against uniform(0, 1.5): the largest gap between the empirical and the true CDF, under
    # the 1 % critical value 1.63 / sqrt(n).
    ordered = sorted(delays)
    gap = max(max((i + 1) / DRAWS - d / 1.5, d / 1.5 - i / DRAWS) for i, d in enumerate(ordered))
    assert gap < 1.63 / math.sqrt(DRAWS), gap
    counts = [sum(1 for d in delays if k * 0.15 <= d < (k + 1) * 0.15) for k in range(10)]
    assert all(abs(count - DRAWS / 10) < 0.25 * DRAWS / 10 for count in counts), counts


def test_only_the_first_call_of_a_just_released_album_waits() -> None:
    now = [RELEASED - timedelta(seconds=1)]
    jitter = ReleaseJitter(random.Random(3), clock=lambda: now[0])
    jitter.learn_albums([album(1), album(2, release_at=None)])
    assert jitter.delay_s(10) == 0.0  # not out yet: the licence refuses anyway, nothing is drawn
    now[0] = RELEASED + timedelta(seconds=2)
    assert 0.0 < jitter.delay_s(11) <= 2.0
    assert jitter.delay_s(10) == 0.0 and jitter.delay_s(12) == 0.0  # drawn once per album
    assert jitter.delay_s(20) == 0.0  # no scheduled release
    late = ReleaseJitter(random.Random(3), clock=lambda: RELEASED + timedelta(seconds=RECENT_S + 1))
    late.learn_albums([album(1)])
    assert late.delay_s(10) == 0.0  # released long ago: no crowd to spread


def test_the_api_client_waits_before_its_first_manifest_call_of_a_new_album() -> None:
    calls: list[str] = []
    slept: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.url.path} after {len(slept)} waits")
        if request.url.path == "/albums/1":
            return httpx.Response(200, json=album(1, bound_ms=800))
        return httpx.Response(200, json={"track_id": 10, "files": [{"id": 100}]})

    jitter = ReleaseJitter(random.Random(5), sleep=slept.append, clock=lambda: RELEASED)
    api = ApiClient("http://legato.test", transport=httpx.MockTransport(answer), release_jitter=jitter)
    try:
        api.album(1)
        api.manifest(10)
        api.manifest(11)
    finally:
        api.close()
    assert calls == ["/albums/1 after 0 waits", "/tracks/10/manifest after 1 waits",
                     "/tracks/11/manifest after 1 waits"]
    assert len(slept) == 1 and 0.0 <= slept[0] <= 0.8
