"""Exponential backoff with full jitter, for download retries and reachability probes."""

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
        """The wait after a 429/503: what the server asked for, never less than the backoff."""
        return max(retry_after_s or 0.0, self.delay_s(attempt))
