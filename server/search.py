"""Search as people type, over the tantivy index: every word must match (exactly, by prefix for the last one,
or within its typo budget), exact and prefix hits rank above fuzzy ones, then relevance times popularity
(global, and in the user's region); only what is licensed in the user's region is ever returned.

Reads the index and the catalog; never changes either (catching the index up is the index's own business).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import tantivy

from server.catalog import Catalog
from server.search_index import SCHEMA, SearchIndex
from server.search_text import MAX_QUERY_WORDS, typo_budget, words

# A word's best match: the same word, a word it starts (the last one, being typed), or a near spelling.
_EXACT, _PREFIX, _FUZZY = 2.0, 1.0, 0.5
_MIN_CANDIDATES = 60  # fetched per kind before re-ranking, so a regional favourite can climb past global ones
_KIND_ORDER = {"artist": 0, "album": 1, "track": 2}  # on a perfect tie the broader result is the top one


@dataclass(frozen=True)
class Hit:
    """One result: its kind and id, whether it matched only through typos, and its rank score."""

    kind: str
    id: int
    fuzzy: bool
    score: float

    def rank_key(self) -> tuple[bool, float, int, int]:
        return self.fuzzy, -self.score, _KIND_ORDER[self.kind], self.id


@dataclass(frozen=True)
class Found:
    """What a query found, best first in each kind, and the best of all (None when nothing matched)."""

    query_words: tuple[str, ...]
    tracks: tuple[Hit, ...]
    albums: tuple[Hit, ...]
    artists: tuple[Hit, ...]

    @property
    def top(self) -> Hit | None:
        firsts = [hits[0] for hits in (self.tracks, self.albums, self.artists) if hits]
        return min(firsts, key=Hit.rank_key) if firsts else None


def query_words(text: str) -> tuple[str, ...]:
    return tuple(words(text)[:MAX_QUERY_WORDS])


def search(index: SearchIndex, catalog: Catalog, text: str, region: str, limit: int) -> Found:
    """The tracks, albums and artists licensed in ``region`` that ``text`` asks for, at most ``limit`` of each."""
    asked = query_words(text)
    if not asked:
        return Found(asked, (), (), ())
    index.catch_up(catalog)
    searcher = index.searcher()
    found = {kind: _ranked(searcher, catalog, kind, asked, region, limit) for kind in ("track", "album", "artist")}
    return Found(asked, found["track"], found["album"], found["artist"])


def _ranked(searcher: tantivy.Searcher, catalog: Catalog, kind: str, asked: Sequence[str], region: str,
            limit: int) -> tuple[Hit, ...]:
    wanted = max(limit * 3, _MIN_CANDIDATES)
    hits = _hits(searcher, _query(kind, asked, region, fuzzy=False), wanted)
    fuzzy: dict[int, tuple[float, float, int]] = {}
    if len(hits) < wanted and any(typo_budget(word) for word in asked):
        fuzzy = {doc_id: hit for doc_id, hit in _hits(searcher, _query(kind, asked, region, fuzzy=True),
                                                      wanted).items() if doc_id not in hits}
    regional = _regional_popularity(catalog, region, [*hits, *fuzzy]) if kind == "track" else {}
    ranked = [Hit(kind, doc_id, is_fuzzy, _score(hit, len(asked), regional.get(doc_id)))
              for is_fuzzy, group in ((False, hits), (True, fuzzy)) for doc_id, hit in group.items()]
    return tuple(sorted(ranked, key=Hit.rank_key)[:limit])


def _hits(searcher: tantivy.Searcher, query: tantivy.Query, limit: int) -> dict[int, tuple[float, float, int]]:
    """Document id → (text score, global popularity, words in its name), for the best ``limit`` matches."""
    hits = searcher.search(query, limit, count=False, weight_by_field="popularity").hits
    if not hits:
        return {}
    scores = [score for score, _ in hits]
    addresses = [address for _, address in hits]
    ids = searcher.fast_field_values("id", addresses)
    popularity = searcher.fast_field_values("popularity", addresses)
    name_words = searcher.fast_field_values("name_words", addresses)
    found: dict[int, tuple[float, float, int]] = {}
    for doc_id, weighted, pop, size in zip(ids, scores, popularity, name_words, strict=True):
        # tantivy multiplied the text score by log2(2 + popularity); the re-rank wants them apart.
        found[int(doc_id or 0)] = (float(weighted) / math.log2(2.0 + float(pop or 0.0)), float(pop or 0.0),
                                   int(size or 1))
    return found


def _score(hit: tuple[float, float, int], asked: int, regional: float | None) -> float:
    """Relevance (how well and how much of the name the words matched) times popularity, the user's region's
    counting as much as the world's where the catalog knows it."""
    text, popularity, name_words = hit
    coverage = min(1.0, asked / name_words)
    blended = popularity if regional is None else (popularity + regional) / 2
    return text / asked * (0.5 + 0.5 * coverage) * math.log2(2.0 + blended)


def _query(kind: str, asked: Sequence[str], region: str, *, fuzzy: bool) -> tantivy.Query:
    clauses = [(tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "kind", kind)),
               (tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "regions", region))]
    for position, word in enumerate(asked):
        typing = position == len(asked) - 1
        options = [tantivy.Query.const_score_query(tantivy.Query.term_query(SCHEMA, "words", word), _EXACT)]
        if typing:
            options.append(tantivy.Query.const_score_query(
                tantivy.Query.fuzzy_term_query(SCHEMA, "words", word, 0, True, True), _PREFIX))
        if fuzzy and typo_budget(word):
            options.append(tantivy.Query.const_score_query(
                tantivy.Query.fuzzy_term_query(SCHEMA, "words", word, typo_budget(word), True, typing), _FUZZY))
        clauses.append((tantivy.Occur.Must, tantivy.Query.disjunction_max_query(options)))
    return tantivy.Query.boolean_query(clauses)


def _regional_popularity(catalog: Catalog, region: str, track_ids: Sequence[int]) -> dict[int, float]:
    if not track_ids:
        return {}
    rows = catalog.query(f"SELECT track_id, popularity FROM popularity_by_region WHERE region = ? AND track_id IN "
                         f"({','.join('?' * len(track_ids))})", [region, *track_ids])
    return {int(row["track_id"]): float(row["popularity"]) for row in rows}
