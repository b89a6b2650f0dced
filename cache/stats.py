"""Cache statistics the UI can show: where plays and bytes came from, hit ratio, bytes saved, cache size."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

Tier = Literal["ram", "disk", "network"]


@dataclass(frozen=True)
class CacheStats:
    """A snapshot. A play counts for the tier that served its first chunk; bytes are ciphertext."""

    plays_from_ram: int
    plays_from_disk: int
    plays_from_network: int
    bytes_from_ram: int
    bytes_from_disk: int
    bytes_downloaded: int
    cache_bytes: int
    pinned_bytes: int
    cap_bytes: int

    @property
    def plays(self) -> int:
        return self.plays_from_ram + self.plays_from_disk + self.plays_from_network

    @property
    def hit_ratio(self) -> float:
        """Share of plays that started without waiting for the network (0.0 before any play)."""
        return (self.plays_from_ram + self.plays_from_disk) / self.plays if self.plays else 0.0

    @property
    def bytes_saved(self) -> int:
        """Bytes read from the disk cache instead of downloaded again."""
        return self.bytes_from_disk


class Tally:
    """Thread-safe counters behind CacheStats."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plays = {"ram": 0, "disk": 0, "network": 0}
        self._ram_bytes = 0
        self._disk_bytes = 0
        self._downloaded = 0

    def served(self, tier: Tier, size: int, *, new_play: bool) -> None:
        """A chunk went to playback from ``tier`` (network bytes are counted when downloaded)."""
        with self._lock:
            if tier == "ram":
                self._ram_bytes += size
            elif tier == "disk":
                self._disk_bytes += size
            if new_play:
                self._plays[tier] += 1

    def read_from_disk(self, size: int) -> None:
        """Disk bytes used for something other than playback (a prefetch into RAM)."""
        with self._lock:
            self._disk_bytes += size

    def downloaded(self, size: int) -> None:
        with self._lock:
            self._downloaded += size

    def snapshot(self, cache_bytes: int, pinned_bytes: int, cap_bytes: int) -> CacheStats:
        with self._lock:
            return CacheStats(self._plays["ram"], self._plays["disk"], self._plays["network"],
                              self._ram_bytes, self._disk_bytes, self._downloaded,
                              cache_bytes, pinned_bytes, cap_bytes)
