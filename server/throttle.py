"""Login throttling: how long a login attempt for an account from a client address must wait, in memory.

Three bounds, all counting failures alike for names that exist and names that do not (so a 429 leaks nothing):
exponential backoff per (account, address) after a few free failures; a looser cap per address over a window
(one address spraying many accounts); a looser cap per account over a window (many addresses against one
account), which never applies to an address the account has logged in from, so a crowd of attackers cannot lock
the real user out of a device they use. It never sleeps: it only says how long to wait.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

_ENV_PREFIX = "LEGATO_LOGIN_"
_MAX_TRACKED = 50_000  # keys per table; the least recently touched are forgotten first
_KNOWN_ADDRESS_S = 30 * 24 * 3600.0
_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True)
class ThrottlePolicy:
    """The bounds; each can be set by the environment as ``LEGATO_LOGIN_<FIELD>`` (e.g. LEGATO_LOGIN_BACKOFF_S)."""

    free_failures: int = 3  # per (account, address) before any wait
    backoff_s: float = 1.0  # the first wait; doubled by each further failure
    max_backoff_s: float = 300.0
    address_failures: int = 50  # per address, all accounts, within window_s
    account_failures: int = 100  # per account, all unknown addresses, within window_s
    window_s: float = 900.0  # also how long a (account, address) backoff is remembered after its last failure

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ThrottlePolicy:
        """The defaults, overridden by LEGATO_LOGIN_* variables; ValueError naming the variable when one is bad."""
        values: dict[str, float | int] = {}
        for name, default in cls().__dict__.items():
            raw = environ.get(_ENV_PREFIX + name.upper())
            if raw is None:
                continue
            kind = type(default)
            try:
                value = kind(raw)
            except ValueError:
                value = -1
            if not value >= (0 if name == "free_failures" else 1e-9):
                raise ValueError(f"{_ENV_PREFIX}{name.upper()}={raw!r} is not a positive "
                                 f"{'whole number' if kind is int else 'number'}")
            values[name] = value
        return cls(**values)  # type: ignore[arg-type]  # each value has its field's type

    def backoff_after(self, failures: int) -> float:
        """The wait after ``failures`` consecutive failures of one account from one address."""
        beyond = failures - self.free_failures
        return 0.0 if beyond <= 0 else min(self.backoff_s * 2.0 ** min(beyond - 1, 64), self.max_backoff_s)


@dataclass
class _Backoff:
    failures: int
    last_failure: float


class LoginThrottle:
    """Thread-safe throttle state of one server process (it starts empty on each start)."""

    def __init__(self, policy: ThrottlePolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._pairs: OrderedDict[tuple[str, str], _Backoff] = OrderedDict()
        self._by_address: OrderedDict[str, deque[float]] = OrderedDict()
        self._by_account: OrderedDict[str, deque[float]] = OrderedDict()
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()

    def attempt(self, account: str, address: str) -> float:
        """Seconds to wait before ``account`` may try from ``address``; 0.0 admits the attempt.

        An admitted attempt counts as a failure at once (so parallel guesses cannot slip past the count) until
        ``succeeded`` takes it back.
        """
        with self._lock:
            now = self._clock()
            wait = max(self._pair_wait(account, address, now), self._address_wait(address, now),
                       self._account_wait(account, address, now))
            if wait > 0:
                return wait
            pair = self._pairs.get((account, address))
            if pair is None or now - pair.last_failure > self.policy.window_s:
                pair = _Backoff(0, now)
            pair.failures += 1
            pair.last_failure = now
            _touch(self._pairs, (account, address), pair)
            _touch(self._by_address, address, self._by_address.get(address, deque())).append(now)
            _touch(self._by_account, account, self._by_account.get(account, deque())).append(now)
            return 0.0

    def succeeded(self, account: str, address: str) -> None:
        """The admitted attempt was right: forget this pair's failures and trust this address for the account."""
        with self._lock:
            self._pairs.pop((account, address), None)
            for table, key in ((self._by_address, address), (self._by_account, account)):
                times = table.get(key)
                if times:
                    times.pop()
            _touch(self._known, (account, address), self._clock())

    def _pair_wait(self, account: str, address: str, now: float) -> float:
        pair = self._pairs.get((account, address))
        if pair is None or now - pair.last_failure > self.policy.window_s:
            return 0.0
        return pair.last_failure + self.policy.backoff_after(pair.failures) - now

    def _address_wait(self, address: str, now: float) -> float:
        return self._window_wait(self._by_address.get(address), self.policy.address_failures, now)

    def _account_wait(self, account: str, address: str, now: float) -> float:
        known_since = self._known.get((account, address))
        if known_since is not None and now - known_since < _KNOWN_ADDRESS_S:
            return 0.0
        return self._window_wait(self._by_account.get(account), self.policy.account_failures, now)

    def _window_wait(self, times: deque[float] | None, cap: int, now: float) -> float:
        if not times:
            return 0.0
        while times and now - times[0] > self.policy.window_s:
            times.popleft()
        if len(times) < cap:
            return 0.0
        return times[-cap] + self.policy.window_s - now


def retry_after(wait_s: float) -> str:
    """A Retry-After header value (whole seconds, never 0) for a wait."""
    return str(max(1, math.ceil(wait_s)))


def _touch(table: OrderedDict[_K, _V], key: _K, value: _V) -> _V:
    """Store ``value`` under ``key`` as the most recently used entry, forgetting the oldest past the bound."""
    table[key] = value
    table.move_to_end(key)
    while len(table) > _MAX_TRACKED:
        table.popitem(last=False)
    return value
