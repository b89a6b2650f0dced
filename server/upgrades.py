"""Upgrades of older data dirs: an ordered list of named steps, each run once and recorded in
``schema_migrations``. A step only fills in what an older server did not record; it never re-encodes audio.

The catalog's shape (new tables and columns) catches up in ``Catalog.open``; the steps here do the slow work.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from server import licences, warm, waveform
from server.catalog import Catalog
from server.exceptions import AlbumLoudnessError, UpgradeError

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upgrade:
    """One step: ``run`` must be safe to interrupt (it runs again from the start) and to repeat."""

    name: str
    description: str
    run: Callable[[Catalog, Path, threading.Event], None]


def _measure_album_loudness(catalog: Catalog, data_dir: Path, stop: threading.Event) -> None:
    albums = catalog.query("SELECT id FROM albums WHERE loudness_lufs IS NULL AND "
                           "EXISTS (SELECT 1 FROM tracks WHERE tracks.album_id = albums.id) ORDER BY id")
    if not albums:
        return
    # Imported only now: pyloudnorm brings scipy.signal (~1.5 s, ~40 MB), and a data dir whose albums are all
    # measured (any made by this version's ingest, upgraded or not) never needs it.
    from server.album_loudness import record_album_loudness

    for album in albums:
        if stop.is_set():
            return
        try:
            figures = record_album_loudness(catalog, data_dir, int(album["id"]))
        except AlbumLoudnessError as exc:
            # One unreadable album must not hold the others back; it stays unknown (track gain applies).
            _log.error("upgrade: %s", exc)
            continue
        _log.info("upgrade: album %s measured at %s", album["id"], figures)


@dataclass(frozen=True)
class _Legacy:
    """A table an older server kept in a SQLite file of its own, and how its rows go into the catalog."""

    file_name: str
    table: str
    select: str
    insert: str


_LEGACY = (
    _Legacy(licences.LEGACY_DB_NAME, "offline_grants",
            "SELECT user_id, file_id, granted_at, expires_at FROM offline_grants",
            "INSERT INTO offline_grants (user_id, file_id, granted_at, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id, file_id) DO NOTHING"),
    _Legacy(warm.LEGACY_DB_NAME, "warmed", "SELECT edge, file_id, start FROM warmed",
            "INSERT INTO warmed_slices (edge, file_id, start_byte) VALUES (?, ?, ?) "
            "ON CONFLICT (edge, file_id, start_byte) DO NOTHING"),
)


def _import_legacy_databases(catalog: Catalog, data_dir: Path, stop: threading.Event) -> None:
    """Offline grants and warmed slices from DATA/licences.db and DATA/warm.db into the catalog (where every
    instance of a fleet sees them); each file is renamed ``*.imported`` once its rows are in."""
    for legacy in _LEGACY:
        path = data_dir / legacy.file_name
        if not path.is_file():
            continue
        with closing(sqlite3.connect(path, timeout=30)) as old:
            found = old.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [legacy.table]).fetchone()
            rows = old.execute(legacy.select).fetchall() if found else []
        with catalog.transaction():
            for row in rows:
                catalog.execute(legacy.insert, list(row))
        path.rename(path.with_name(f"{legacy.file_name}.imported"))
        _log.info("upgrade: %d rows of %s moved into the catalog", len(rows), legacy.file_name)


UPGRADES: tuple[Upgrade, ...] = (
    Upgrade("album-loudness", "measure each album's loudness and peak from its lossless files",
            _measure_album_loudness),
    Upgrade("legacy-databases", "move offline grants and warmed slices from licences.db and warm.db into the catalog",
            _import_legacy_databases),
    Upgrade("waveforms", "compute each track's seek-bar waveform from its origin copy", waveform.fill_missing),
)


def pending(catalog: Catalog) -> list[Upgrade]:
    """The steps not recorded as done, in order."""
    done = {row["name"] for row in catalog.query("SELECT name FROM schema_migrations")}
    return [step for step in UPGRADES if step.name not in done]


def record_current_if_empty(catalog: Catalog) -> None:
    """A catalog with no tracks has nothing an older server left undone: its pending steps are recorded as done
    without running (called before a first ingest too, so a data dir this version filled never upgrades)."""
    if catalog.query_one("SELECT 1 AS found FROM tracks LIMIT 1") is not None:
        return
    for step in pending(catalog):
        _record(catalog, step)


def apply_pending(data_dir: Path, stop: threading.Event | None = None) -> list[str]:
    """Run every pending step in order and record each; the names of those that ran.

    Stops between steps (and between albums inside a step) once ``stop`` is set; what is left runs next time.
    """
    stop = stop or threading.Event()
    catalog = Catalog.open(data_dir)
    ran: list[str] = []
    try:
        record_current_if_empty(catalog)
        for step in pending(catalog):
            if stop.is_set():
                break
            _log.info("upgrade: %s: %s", step.name, step.description)
            try:
                step.run(catalog, data_dir, stop)
            except Exception as exc:
                raise UpgradeError(f"the upgrade step {step.name!r} failed ({exc}); it runs again at the "
                                   "next start") from exc
            if stop.is_set():
                break
            ran.append(step.name)
            _record(catalog, step)
    finally:
        catalog.close()
    return ran


def _record(catalog: Catalog, step: Upgrade) -> None:
    catalog.execute("INSERT INTO schema_migrations (name, applied) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                    [step.name, int(time.time())])


class BackgroundUpgrades:
    """Runs ``apply_pending`` on a thread of its own, so a server starts serving at once; ``close`` stops it
    between albums and waits for it."""

    def __init__(self, data_dir: Path) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(data_dir,), name="legato-upgrades", daemon=True)
        self.finished = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def _run(self, data_dir: Path) -> None:
        try:
            ran = apply_pending(data_dir, self._stop)
            if ran:
                _log.warning("upgraded the data dir %s: %s", data_dir, ", ".join(ran))
        except UpgradeError:
            _log.exception("upgrading the data dir %s failed; the server serves it as it is", data_dir)
        finally:
            self.finished.set()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
