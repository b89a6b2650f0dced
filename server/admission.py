"""Admission control for the origin's hot endpoints (manifest, licence, file): bounded concurrency and a token
bucket per endpoint; a request over either gets 503 with Retry-After at once, before any work is done.

It never queues or sleeps: a shed request costs one JSON answer. State is per process, in the event loop's thread.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

_ENV_PREFIX = "LEGATO_ADMIT_"
ErrorResponse = Callable[[int, str, str, dict[str, str]], Response]  # status, code, message, headers
ENDPOINTS: dict[str, re.Pattern[str]] = {
    "manifest": re.compile(r"/tracks/[0-9]+/manifest|/manifests"),
    "licence": re.compile(r"/licences/[0-9]+"),
    "files": re.compile(r"/files/[0-9]+"),
}


@dataclass(frozen=True)
class Limit:
    """One endpoint's bounds: requests in progress at once, and a sustained rate with a burst above it."""

    concurrency: int
    rate_per_s: float
    burst: int


@dataclass(frozen=True)
class AdmissionPolicy:
    """The bounds of each endpoint in ENDPOINTS; LEGATO_ADMIT_<ENDPOINT>_<CONCURRENCY|RATE|BURST> override them."""

    limits: Mapping[str, Limit]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> AdmissionPolicy:
        """The defaults, overridden by LEGATO_ADMIT_* variables; ValueError naming the variable when one is bad."""
        defaults = {"manifest": Limit(64, 2000.0, 4000), "licence": Limit(64, 2000.0, 4000),
                    "files": Limit(256, 4000.0, 8000)}
        limits: dict[str, Limit] = {}
        for endpoint, default in defaults.items():
            name = f"{_ENV_PREFIX}{endpoint.upper()}_"
            limits[endpoint] = Limit(int(_positive(environ, name + "CONCURRENCY", default.concurrency, int)),
                                     _positive(environ, name + "RATE", default.rate_per_s, float),
                                     int(_positive(environ, name + "BURST", default.burst, int)))
        return cls(limits)


def _positive(environ: Mapping[str, str], name: str, default: float, kind: type[int] | type[float]) -> float:
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if not value > 0:
        raise ValueError(f"{name}={raw!r} is not a positive {'whole number' if kind is int else 'number'}")
    return value


class _Gate:
    """One endpoint's state: requests in progress and the bucket's tokens as of ``_stamp``."""

    def __init__(self, limit: Limit, clock: Callable[[], float]) -> None:
        self.limit = limit
        self._clock = clock
        self.in_flight = 0
        self._tokens = float(limit.burst)
        self._stamp = clock()

    def refusal_wait_s(self) -> float | None:
        """None when admitted (and counted as in progress); otherwise the seconds after which to try again."""
        now = self._clock()
        self._tokens = min(float(self.limit.burst), self._tokens + (now - self._stamp) * self.limit.rate_per_s)
        self._stamp = now
        if self.in_flight >= self.limit.concurrency:
            return 1.0
        if self._tokens < 1.0:
            return (1.0 - self._tokens) / self.limit.rate_per_s
        self._tokens -= 1.0
        self.in_flight += 1
        return None


class AdmissionControl:
    """ASGI middleware: admits or sheds each request to an endpoint of ENDPOINTS; counts what it shed."""

    def __init__(self, app: ASGIApp, respond: ErrorResponse, policy: AdmissionPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``respond`` shapes the 503 as the API's other errors."""
        self.app = app
        self._respond = respond
        policy = policy or AdmissionPolicy.from_environment()
        self._gates = {endpoint: _Gate(policy.limits[endpoint], clock) for endpoint in ENDPOINTS}
        self.shed: dict[str, int] = dict.fromkeys(ENDPOINTS, 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = _endpoint(scope) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        gate = self._gates[endpoint]
        wait_s = gate.refusal_wait_s()
        if wait_s is not None:
            self.shed[endpoint] += 1
            seconds = str(max(1, math.ceil(wait_s)))
            response = self._respond(503, "server_busy", f"the server is at its limit for {endpoint} requests; "
                                      f"retry in {seconds} s", {"Retry-After": seconds})
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            gate.in_flight -= 1


def _endpoint(scope: Scope) -> str | None:
    path = str(scope.get("path", ""))
    return next((name for name, pattern in ENDPOINTS.items() if pattern.fullmatch(path)), None)
