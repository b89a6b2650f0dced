"""Metadata-only tracks (no audio, no files: for benchmarks, load tests and search) read from JSON Lines and
stored in the catalog in large transactions.

Every line is hostile until checked: a bad line is reported with its number and the rest of the file goes on.
Such tracks are marked by a ``metadata:`` source hash and cannot be played; they never touch the origin store.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.catalog import Catalog, NewTrack
from server.ingest import DEFAULT_REGIONS

MARK = "metadata:"  # the source_sha256 prefix of every metadata-only track
_SAMPLE_RATE = 44100
_BATCH = 5000  # tracks per transaction
_MAX_NAME_CHARS = 500
_REGION = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class MetadataTrack:
    """One metadata-only track: names, popularity (0-100) overall and per region, where it is licensed."""

    title: str
    artist: str
    album: str
    popularity: int = 0
    regions: tuple[str, ...] = DEFAULT_REGIONS
    popularity_by_region: dict[str, int] = field(default_factory=dict)
    duration_s: float = 180.0

    @property
    def source_key(self) -> str:
        facts = json.dumps([self.title, self.artist, self.album], ensure_ascii=False)
        return MARK + hashlib.sha256(facts.encode()).hexdigest()


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ImportReport:
    added: int
    present: int
    failures: tuple[LineError, ...]


def store(catalog: Catalog, tracks: Iterable[MetadataTrack], progress: Callable[[int], None] | None = None) -> int:
    """Insert ``tracks`` (skipping those already present, same title, artist and album); how many were new."""
    added = 0
    batch: list[MetadataTrack] = []
    for track in tracks:
        batch.append(track)
        if len(batch) == _BATCH:
            added += _store_batch(catalog, batch)
            batch = []
            if progress:
                progress(added)
    return added + _store_batch(catalog, batch)


def _store_batch(catalog: Catalog, batch: list[MetadataTrack]) -> int:
    added = 0
    with catalog.transaction():
        for track in batch:
            if catalog.track_id_for_source(track.source_key) is not None:
                continue
            track_id = catalog.insert_track(NewTrack(
                title=track.title, artist=track.artist, album=track.album, album_artist=track.artist, disc_no=1,
                track_no=added % 20 + 1, duration_samples=round(track.duration_s * _SAMPLE_RATE),
                sample_rate=_SAMPLE_RATE, popularity=track.popularity, regions=track.regions, release_time=None,
                genre="metadata only", gapless=False, loudness_lufs=-14.0, peak_dbfs=-1.0,
                source_sha256=track.source_key))
            for region, popularity in track.popularity_by_region.items():
                catalog.set_region_popularity(track_id, region, popularity)
            added += 1
    return added


def import_file(data_dir: Path, path: Path) -> ImportReport:
    """Load every valid line of the JSON Lines file ``path`` into the catalog in ``data_dir``."""
    failures: list[LineError] = []
    total = 0

    def valid() -> Iterator[MetadataTrack]:
        nonlocal total
        with open(path, encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    yield parse_line(line)
                    total += 1
                except ValueError as exc:
                    failures.append(LineError(number, str(exc)))

    catalog = Catalog.open(data_dir)
    try:
        added = store(catalog, valid())
    finally:
        catalog.close()
    return ImportReport(added, total - added, tuple(failures))


def parse_line(line: str) -> MetadataTrack:
    """One JSON object with ``title`` and ``artist`` (and optionally ``album``, ``popularity``, ``regions``,
    ``popularity_by_region``, ``duration_s``); ValueError saying what is wrong."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    title, artist = _name(raw, "title"), _name(raw, "artist")
    regions = raw.get("regions", list(DEFAULT_REGIONS))
    if not isinstance(regions, list) or not all(isinstance(r, str) and _REGION.fullmatch(r) for r in regions):
        raise ValueError("regions must be a list of two-letter upper-case country codes")
    by_region = raw.get("popularity_by_region", {})
    if not isinstance(by_region, dict) or not all(_REGION.fullmatch(str(r)) for r in by_region):
        raise ValueError("popularity_by_region must map two-letter country codes to popularities")
    duration = raw.get("duration_s", 180.0)
    if not isinstance(duration, int | float) or isinstance(duration, bool) or not 0 < duration < 86400:
        raise ValueError("duration_s must be a number of seconds between 0 and 86400")
    return MetadataTrack(title, artist, _name(raw, "album") if "album" in raw else title,
                         _popularity(raw.get("popularity", 0), "popularity"), tuple(regions),
                         {str(r): _popularity(p, f"popularity_by_region.{r}") for r, p in by_region.items()},
                         float(duration))


def _name(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_NAME_CHARS:
        raise ValueError(f"{key} must be a non-empty string of at most {_MAX_NAME_CHARS} characters")
    return value.strip()


def _popularity(value: object, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise ValueError(f"{key} must be a whole number from 0 to 100")
    return value
