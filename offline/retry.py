"""Exponential backoff with full jitter, for retries of downloads, API calls and reachability probes, and the
wait after a 429/503 that honours Retry-After without sending the whole crowd back at the same instant."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """Attempt ``n`` (0-based) waits a uniform random time in [0, min(cap_s, base_s * 2**n)] ("full jitter")."""

    base_s: float = 1.0
    cap_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay_s(self, attempt: int) -> float:
        ceiling = min(self.cap_s, self.base_s * 2.0 ** min(attempt, 62))
        return self.rng.uniform(0.0, ceiling)

    def after_busy_s(self, attempt: int, retry_after_s: float | None) -> float:
        """The wait after a 429/503. Without Retry-After: the backoff. With it (``R`` s): uniform in
        [R, R + min(R, cap_s)], never sooner than asked, and spread so that every client told ``R`` at once does
        not come back in one wall."""
        if not retry_after_s:
            return self.delay_s(attempt)
        return retry_after_s + self.rng.uniform(0.0, min(retry_after_s, self.cap_s))
