"""Connectivity: failures and a probe with backoff decide reachability; offline mode never touches the network."""

from __future__ import annotations

import random
import threading

from hypothesis import given
from hypothesis import strategies as st

from offline import Backoff, Connectivity, ConnectivityState
from tests.helpers.offline_harness import FAST_BACKOFF, wait_until


class Server:
    """A probe the test switches between answering and refusing."""

    def __init__(self) -> None:
        self.up = True
        self.probes = 0
        self._lock = threading.Lock()

    def probe(self) -> None:
        with self._lock:
            self.probes += 1
        if not self.up:
            raise ConnectionRefusedError("connection refused")


def test_failure_with_an_unanswered_probe_goes_offline_until_a_later_probe_answers() -> None:
    server = Server()
    connectivity = Connectivity(server.probe, FAST_BACKOFF)
    seen: list[ConnectivityState] = []
    connectivity.subscribe(seen.append)
    try:
        server.up = False
        assert not connectivity.report_failure()
        assert not connectivity.online
        wait_until(lambda: server.probes >= 3, "probes with backoff")
        server.up = True
        assert connectivity.wait_online(5.0)
        assert [state.online for state in seen] == [False, True]
    finally:
        connectivity.close()


def test_a_failure_the_probe_contradicts_keeps_the_app_online() -> None:
    server = Server()
    connectivity = Connectivity(server.probe, FAST_BACKOFF)
    try:
        assert connectivity.report_failure()
        assert connectivity.online and server.probes == 1
    finally:
        connectivity.close()


def test_forced_offline_mode_is_offline_and_never_probes() -> None:
    server = Server()
    connectivity = Connectivity(server.probe, FAST_BACKOFF)
    try:
        connectivity.set_forced_offline(True)
        assert not connectivity.online and connectivity.state.reachable
        assert not connectivity.report_failure()
        assert server.probes == 0
        connectivity.set_forced_offline(False)
        assert connectivity.online
    finally:
        connectivity.close()


@given(st.integers(min_value=0, max_value=200), st.floats(min_value=0.001, max_value=10),
       st.floats(min_value=0.01, max_value=600), st.integers())
def test_backoff_waits_a_full_jitter_delay_within_the_exponential_ceiling(
        attempt: int, base_s: float, cap_s: float, seed: int) -> None:
    backoff = Backoff(base_s, cap_s, random.Random(seed))
    delay = backoff.delay_s(attempt)
    assert 0.0 <= delay <= min(cap_s, base_s * 2.0 ** attempt)
    assert backoff.after_busy_s(attempt, 7.5) >= 7.5


def test_backoff_delays_spread_over_the_whole_window() -> None:
    backoff = Backoff(1.0, 60.0, random.Random(1))
    delays = [backoff.delay_s(3) for _ in range(2000)]
    assert max(delays) <= 8.0 and max(delays) > 7.0 and min(delays) < 1.0
