"""Typo-tolerant catalog search: substring hits first, then near spellings (rapidfuzz), popular first on ties.

Reads the catalog only; the candidate names of each kind are held in memory until the catalog changes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process, utils

from server.catalog import Catalog

MIN_FUZZY_QUERY = 4  # shorter queries match by substring only: three letters are close to everything
FUZZY_CUTOFF = 75.0


@dataclass(frozen=True)
class _Names:
    """One kind's searchable names: ids, the text matched, and a popularity for ties."""

    ids: tuple[int, ...]
    texts: tuple[str, ...]
    popularity: tuple[float, ...]


_SOURCES = {
    "tracks": "SELECT tracks.id, tracks.title || ' ' || artists.name AS text, tracks.popularity AS popularity "
              "FROM tracks JOIN artists ON artists.id = tracks.artist_id",
    "albums": "SELECT albums.id, albums.title || ' ' || artists.name AS text, 0 AS popularity "
              "FROM albums JOIN artists ON artists.id = albums.artist_id",
    "artists": "SELECT id, name AS text, 0 AS popularity FROM artists",
}
_cache: dict[tuple[str, str, int, int], _Names] = {}
_cache_lock = threading.Lock()


def _names(catalog: Catalog, kind: str) -> _Names:
    stamp = catalog.query_one(f"SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS top FROM {kind}", [])
    database = catalog.query_one("PRAGMA database_list", [])
    assert stamp is not None and database is not None
    key = (str(database["file"]), kind, int(stamp["n"]), int(stamp["top"]))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    rows = catalog.query(_SOURCES[kind], [])
    names = _Names(tuple(int(r["id"]) for r in rows), tuple(utils.default_process(str(r["text"])) for r in rows),
                   tuple(float(r["popularity"]) for r in rows))
    with _cache_lock:
        _cache[key] = names
    return names


def rank(catalog: Catalog, kind: str, text: str, limit: int) -> list[int]:
    """Ids of ``kind`` ("tracks", "albums", "artists") matching ``text``, best first."""
    names = _names(catalog, kind)
    query = utils.default_process(text)
    if not query:
        return []
    scores: dict[int, float] = {i: 200.0 for i, candidate in enumerate(names.texts) if query in candidate}
    if len(query) >= MIN_FUZZY_QUERY:
        # WRatio judges whole names; partial_ratio finds a misspelt word inside a long "title artist" text.
        for scorer in (fuzz.WRatio, fuzz.partial_ratio):
            for _, score, i in process.extract(query, names.texts, scorer=scorer, processor=None,
                                               score_cutoff=FUZZY_CUTOFF, limit=limit * 4):
                scores[i] = max(scores.get(i, 0.0), float(score))
    best = sorted(scores, key=lambda i: (-scores[i], -names.popularity[i], names.ids[i]))
    return [names.ids[i] for i in best[:limit]]


def in_rank_order(rows: Sequence[dict[str, Any]], ids: list[int]) -> list[dict[str, Any]]:
    by_id = {row["id"]: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]
