"""Whether the server is reachable (failures reported by users of the network, then a cheap probe with backoff),
and whether the user forced offline mode. Never probes while offline mode is forced."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from offline.retry import Backoff

log = logging.getLogger(__name__)

Probe = Callable[[], None]
"""A cheap request to the server (GET /health); raises when the server cannot be reached or is not serving."""


@dataclass(frozen=True)
class ConnectivityState:
    reachable: bool
    forced_offline: bool

    @property
    def online(self) -> bool:
        return self.reachable and not self.forced_offline


Listener = Callable[[ConnectivityState], None]


class Connectivity:
    """The app's view of the network. Listeners are called (on the thread that changed it) at every change."""

    def __init__(self, probe: Probe, backoff: Backoff | None = None) -> None:
        self._probe = probe
        self._backoff = backoff or Backoff(base_s=1.0, cap_s=60.0)
        self._state = ConnectivityState(reachable=True, forced_offline=False)
        self._listeners: list[Listener] = []
        self._cv = threading.Condition()
        self._closed = False
        self._prober: threading.Thread | None = None

    @property
    def state(self) -> ConnectivityState:
        with self._cv:
            return self._state

    @property
    def online(self) -> bool:
        return self.state.online

    def subscribe(self, listener: Listener) -> None:
        with self._cv:
            self._listeners.append(listener)

    def set_forced_offline(self, forced: bool) -> None:
        """The user's offline mode: nothing touches the network while it is on."""
        self._update(forced_offline=forced)
        if not forced and not self.state.reachable:
            self._start_prober()

    def report_success(self) -> None:
        """A request to the server just worked."""
        self._update(reachable=True)

    def report_failure(self) -> bool:
        """A request to the server failed: probe now; False (and keep probing with backoff) if it is unreachable."""
        if self.state.forced_offline:
            return False
        if self._probe_once():
            return True
        self._start_prober()
        return False

    def wait_online(self, timeout_s: float) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: self._state.online or self._closed, timeout_s) and self._state.online

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
            prober = self._prober
        if prober is not None:
            prober.join()

    def _probe_once(self) -> bool:
        try:
            self._probe()
        except Exception as exc:  # noqa: BLE001 - whatever the probe raises, the server is not serving us
            log.info("server unreachable: %s", exc)
            self._update(reachable=False)
            return False
        self._update(reachable=True)
        return True

    def _start_prober(self) -> None:
        with self._cv:
            if self._closed or (self._prober is not None and self._prober.is_alive()):
                return
            self._prober = threading.Thread(target=self._probe_until_reachable, name="legato-probe", daemon=True)
            self._prober.start()

    def _probe_until_reachable(self) -> None:
        attempt = 0
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._closed, self._backoff.delay_s(attempt))
                if self._closed or self._state.forced_offline or self._state.reachable:
                    return
            if self._probe_once():
                return
            attempt += 1

    def _update(self, *, reachable: bool | None = None, forced_offline: bool | None = None) -> None:
        with self._cv:
            old = self._state
            self._state = ConnectivityState(old.reachable if reachable is None else reachable,
                                            old.forced_offline if forced_offline is None else forced_offline)
            changed, listeners = self._state != old, list(self._listeners)
            state = self._state
            self._cv.notify_all()
        if changed:
            for listener in listeners:
                listener(state)
