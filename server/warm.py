"""Warming edges before a release: every slice of every file (all qualities) and the cover of an album, pulled
through each edge so the release-day crowd hits a warm cache. Idempotent and resumable: done slices are recorded
in the catalog's ``warmed_slices`` (shared by a fleet; an older server kept them in DATA/warm.db, ``LEGACY_DB_NAME``,
imported by an upgrade step).

It only reads from edges (GET with Range); it never writes the catalog and never needs a token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from server import fleet_lock, releases
from server.catalog import Catalog
from server.edge import SLICE_BYTES
from server.exceptions import DatabaseError, EdgeError

_log = logging.getLogger(__name__)
LEGACY_DB_NAME = "warm.db"
DEFAULT_WINDOW = timedelta(hours=24)
DEFAULT_INTERVAL_S = 600.0
_TIMEOUT_S = 30.0
LOCK_JOB = "warm"  # one instance of a fleet warms each round (server/fleet_lock.py)


@dataclass(frozen=True)
class WarmReport:
    """Slices fetched now, slices already warm from an earlier run, covers pulled, across all edges."""

    fetched: int
    skipped: int
    covers: int


@dataclass(frozen=True)
class _Slice:
    file_id: int
    start: int
    stop: int


def album_slices(catalog: Catalog, album_id: int) -> list[_Slice]:
    """Every edge slice of every file of the album's tracks, in track and quality order."""
    files = catalog.query("SELECT files.id, files.size_bytes FROM files JOIN tracks ON tracks.id = files.track_id "
                          "WHERE tracks.album_id = ? ORDER BY tracks.disc_no, tracks.track_no, files.id", [album_id])
    return [_Slice(int(file["id"]), start, min(start + SLICE_BYTES, int(file["size_bytes"])))
            for file in files for start in range(0, int(file["size_bytes"]), SLICE_BYTES)]


def warm(data_dir: Path, edges: Sequence[str], album_ids: Sequence[int],
         progress: Callable[[str], None] = print) -> WarmReport:
    """Pull the albums through every edge; EdgeError when an edge cannot be reached or refuses a slice (what was
    warmed so far stays recorded, so the next run resumes there)."""
    catalog = Catalog.open(data_dir)
    try:
        plans = {album_id: album_slices(catalog, album_id) for album_id in album_ids}
        covers = [album_id for album_id in album_ids if catalog.album_cover(album_id) is not None]
        fetched = skipped = covers_pulled = 0
        with httpx.Client(timeout=_TIMEOUT_S) as http:
            for edge in (edge.rstrip("/") for edge in edges):
                for album_id, slices in plans.items():
                    for index, part in enumerate(slices, 1):
                        if _is_done(catalog, edge, part):
                            skipped += 1
                            continue
                        _pull(http, f"{edge}/files/{part.file_id}", part.start, part.stop)
                        catalog.execute("INSERT INTO warmed_slices (edge, file_id, start_byte) VALUES (?, ?, ?) "
                                        "ON CONFLICT (edge, file_id, start_byte) DO NOTHING",
                                        [edge, part.file_id, part.start])
                        fetched += 1
                        if index % 50 == 0 or index == len(slices):
                            progress(f"{edge}: album {album_id}: {index}/{len(slices)} slices warm")
                    if album_id in covers:
                        _pull(http, f"{edge}/albums/{album_id}/cover", None, None)
                        covers_pulled += 1
    finally:
        catalog.close()
    progress(f"warmed {fetched} slices ({skipped} were already warm) and {covers_pulled} covers "
             f"on {len(edges)} edge(s)")
    return WarmReport(fetched, skipped, covers_pulled)


def albums_releasing_within(data_dir: Path, window: timedelta, now: releases.Clock = releases.utc_now) -> list[int]:
    catalog = Catalog.open(data_dir)
    try:
        return releases.releasing_within(catalog, now(), window)
    finally:
        catalog.close()


class BackgroundWarmer:
    """``serve``'s warming: every ``interval_s``, the albums releasing within ``window`` through ``edges``, on a
    thread of its own (never on the request path). A failed round is logged and tried again next round."""

    def __init__(self, data_dir: Path, edges: Sequence[str], window: timedelta = DEFAULT_WINDOW,
                 interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self._data_dir = data_dir
        self._edges = list(edges)
        self._window = window
        self._interval_s = interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="edge-warmer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                with fleet_lock.held(self._data_dir, LOCK_JOB) as mine:
                    album_ids = albums_releasing_within(self._data_dir, self._window) if mine else []
                    if album_ids:
                        warm(self._data_dir, self._edges, album_ids, progress=_log.info)
            except (DatabaseError, EdgeError, OSError, sa.exc.SQLAlchemyError) as exc:
                _log.warning("warming the edges failed this round (%s); trying again in %.0f s", exc,
                             self._interval_s)
            self._stopped.wait(self._interval_s)


def _pull(http: httpx.Client, url: str, start: int | None, stop: int | None) -> None:
    headers = {} if start is None or stop is None else {"Range": f"bytes={start}-{stop - 1}"}
    try:
        with http.stream("GET", url, headers=headers) as response:
            for _ in response.iter_bytes():
                pass
    except httpx.HTTPError as exc:
        raise EdgeError(f"cannot warm {url} ({headers.get('Range', 'whole')}): {exc}") from exc
    if response.status_code not in (200, 206):
        raise EdgeError(f"the edge answered {response.status_code} for {url} ({headers.get('Range', 'whole')}); "
                        "run warm again to resume")


def _is_done(catalog: Catalog, edge: str, part: _Slice) -> bool:
    return catalog.query_one("SELECT 1 AS found FROM warmed_slices WHERE edge = ? AND file_id = ? AND start_byte = ?",
                             [edge, part.file_id, part.start]) is not None
