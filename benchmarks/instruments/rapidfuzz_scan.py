"""The search Legato had before its index (issue 15's baseline): every name of a kind scanned with rapidfuzz on
each query, substring hits first, popular first on ties. Kept only so benchmarks/search.py can measure against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from server.catalog import Catalog

MIN_FUZZY_QUERY = 4
FUZZY_CUTOFF = 75.0
_TRACKS = ("SELECT tracks.id, tracks.title || ' ' || artists.name AS text, tracks.popularity AS popularity "
           "FROM tracks JOIN artists ON artists.id = tracks.artist_id")


@dataclass(frozen=True)
class TrackNames:
    """Every track's id, matched text and popularity, loaded once (the old code's in-memory cache)."""

    ids: tuple[int, ...]
    texts: tuple[str, ...]
    popularity: tuple[float, ...]

    @classmethod
    def load(cls, catalog: Catalog) -> TrackNames:
        rows = catalog.query(_TRACKS)
        return cls(tuple(int(r["id"]) for r in rows), tuple(utils.default_process(str(r["text"])) for r in rows),
                   tuple(float(r["popularity"]) for r in rows))


def rank_tracks(names: TrackNames, text: str, limit: int) -> list[int]:
    """Track ids matching ``text``, best first, exactly as the old ``server.search.rank`` ranked them."""
    query = utils.default_process(text)
    if not query:
        return []
    scores: dict[int, float] = {i: 200.0 for i, candidate in enumerate(names.texts) if query in candidate}
    if len(query) >= MIN_FUZZY_QUERY:
        for scorer in (fuzz.WRatio, fuzz.partial_ratio):
            for _, score, i in process.extract(query, names.texts, scorer=scorer, processor=None,
                                               score_cutoff=FUZZY_CUTOFF, limit=limit * 4):
                scores[i] = max(scores.get(i, 0.0), float(score))
    best = sorted(scores, key=lambda i: (-scores[i], -names.popularity[i], names.ids[i]))
    return [names.ids[i] for i in best[:limit]]
