"""Summaries for the views: a queued item's progress, the total, and each pin's state (queued, n of m, done, error)."""

from __future__ import annotations

from collections.abc import Sequence

from offline.download_queue import QueuedItem
from offline.records import ItemStatus, PinKey, PinStatus, Progress


def still_progress(item: QueuedItem) -> Progress:
    total = item.manifest.size_bytes if item.manifest is not None else 0
    done = total if item.state == "done" else item.bytes_done
    return Progress(done, total, 0.0, None)


def total_progress(statuses: Sequence[ItemStatus]) -> Progress:
    done = sum(s.progress.bytes_done for s in statuses)
    total = sum(s.progress.bytes_total for s in statuses)
    rate = sum(s.progress.rate_bps for s in statuses)
    return Progress(done, total, rate, (total - done) / rate if rate > 0 else None)


def pin_status(key: PinKey, title: str, tracks: Sequence[ItemStatus], paused: bool) -> PinStatus:
    done = sum(1 for t in tracks if t.state == "done")
    failed = [t for t in tracks if t.state == "failed"]
    if failed:
        return PinStatus(key, title, "error", done, len(tracks), f"{failed[0].title}: {failed[0].error}")
    if done == len(tracks):
        return PinStatus(key, title, "done", done, len(tracks), None)
    if any(t.state in ("downloading", "waiting") for t in tracks):
        return PinStatus(key, title, "downloading", done, len(tracks), None)
    if paused or all(t.state in ("paused", "done") for t in tracks):
        return PinStatus(key, title, "paused", done, len(tracks), None)
    return PinStatus(key, title, "queued", done, len(tracks), None)
