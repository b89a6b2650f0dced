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
from server.search_index import KINDS, SCHEMA, SearchIndex
from server.search_text import MAX_PREFIX, MAX_QUERY_WORDS, MIN_PREFIX, typo_budget, words

# A word's best match: the same word, a word it starts (the last one, being typed), or a near spelling.
_EXACT, _PREFIX, _FUZZY = 2.0, 1.0, 0.5
_MIN_FUZZY_PREFIX = 6  # shorter typo'd starts of words match too much of the dictionary to mean anything
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
    # One search covers the three kinds: each fuzzy word walks the dictionary once, not once per kind.
    wanted = max(limit * 3, _MIN_CANDIDATES) * len(KINDS)
    hits = _hits(searcher, _query(asked, region, fuzzy=frozenset()), wanted)
    shown = {kind: sum(1 for hit_kind, _ in hits if hit_kind == kind) for kind in KINDS}
    # Near spellings rank below every exact or prefix hit, so they are looked for only to fill a page.
    fuzzy = _near_spellings(searcher, asked, region, wanted, hits) if min(shown.values()) < limit else {}
    regional = _regional_popularity(catalog, region, [i for kind, i in (*hits, *fuzzy) if kind == "track"])
    ranked = sorted((Hit(kind, doc_id, is_fuzzy, _score(hit, len(asked), regional.get(doc_id) if kind == "track"
                                                        else None))
                     for is_fuzzy, group in ((False, hits), (True, fuzzy)) for (kind, doc_id), hit in group.items()),
                    key=Hit.rank_key)
    return Found(asked, *(tuple(hit for hit in ranked if hit.kind == kind)[:limit] for kind in KINDS))


def _near_spellings(searcher: tantivy.Searcher, asked: Sequence[str], region: str, wanted: int,
                    exact: dict[tuple[str, int], _Match]) -> dict[tuple[str, int], _Match]:
    """The matches that need a typo forgiven, in the words the index has never seen (a known word is taken as
    meant: the walk over the dictionary for each fuzzy word is the costly part of a search). When every word is
    known yet together they found nothing, any of them may be the typo: one that spells another word ("blitzes"
    typed for "blintzes")."""
    unknown = _unknown_words(searcher, asked) or (frozenset() if exact else frozenset(asked))
    found: dict[tuple[str, int], _Match] = {}
    if not any(typo_budget(word) for word in unknown):
        return found
    # Most typos are one edit, and a walk that forgives two costs several times one that forgives one.
    for edits in (1, 2):
        query = _query(asked, region, fuzzy=unknown, edits=edits)
        found = {key: hit for key, hit in _hits(searcher, query, wanted).items() if key not in exact}
        if found or all(typo_budget(word) <= edits for word in unknown):
            break
    return found


@dataclass(frozen=True)
class _Match:
    text: float  # how well the words matched (the sum of each word's best match)
    popularity: float
    name_words: int


def _hits(searcher: tantivy.Searcher, query: tantivy.Query, limit: int) -> dict[tuple[str, int], _Match]:
    """(kind, id) → how it matched, for the best ``limit`` matches."""
    hits = searcher.search(query, limit, count=False, weight_by_field="popularity").hits
    if not hits:
        return {}
    addresses = [address for _, address in hits]
    columns = [searcher.fast_field_values(name, addresses) for name in ("kind_code", "id", "popularity",
                                                                         "name_words")]
    found: dict[tuple[str, int], _Match] = {}
    for (weighted, _), kind, doc_id, pop, size in zip(hits, *columns, strict=True):
        popularity = float(pop or 0.0)
        # tantivy multiplied the text score by log2(2 + popularity); the re-rank wants them apart.
        found[KINDS[int(kind or 0)], int(doc_id or 0)] = _Match(float(weighted) / math.log2(2.0 + popularity),
                                                                  popularity, int(size or 1))
    return found


def _score(hit: _Match, asked: int, regional: float | None) -> float:
    """Relevance (how well and how much of the name the words matched) times popularity, the user's region's
    counting as much as the world's where the catalog knows it."""
    coverage = min(1.0, asked / hit.name_words)
    blended = hit.popularity if regional is None else (hit.popularity + regional) / 2
    return hit.text / asked * (0.5 + 0.5 * coverage) * math.log2(2.0 + blended)


def _unknown_words(searcher: tantivy.Searcher, asked: Sequence[str]) -> frozenset[str]:
    """The words of the query that are no word, no two words joined, and (the last) no start of a word."""
    unknown = set()
    for position, word in enumerate(asked):
        fields = ("words", "joined", "prefixes") if position == len(asked) - 1 else ("words", "joined")
        if not any(searcher.doc_freq(field, word) for field in fields):
            unknown.add(word)
    return frozenset(unknown)


def _query(asked: Sequence[str], region: str, *, fuzzy: frozenset[str], edits: int = 0) -> tantivy.Query:
    """Every word must match; the words in ``fuzzy`` may also match within their typo budget, ``edits`` at most."""
    # The licence filter scores nothing: only the words decide relevance.
    clauses = [(tantivy.Occur.Must, _scored(tantivy.Query.term_query(SCHEMA, "regions", region), 0.0))]
    for position, word in enumerate(asked):
        typing = position == len(asked) - 1
        options = [_scored(tantivy.Query.term_query(SCHEMA, "words", word), _EXACT),
                   _scored(tantivy.Query.term_query(SCHEMA, "joined", word), _EXACT)]
        if typing and MIN_PREFIX <= len(word) <= MAX_PREFIX:
            options.append(_scored(tantivy.Query.term_query(SCHEMA, "prefixes", word), _PREFIX))
        elif typing and len(word) > MAX_PREFIX:
            options.append(_scored(tantivy.Query.fuzzy_term_query(SCHEMA, "words", word, 0, True, True), _PREFIX))
        budget = min(typo_budget(word), edits)
        if word in fuzzy and budget:
            # A typo'd start of a word is looked for only once it is long enough to say little else.
            as_prefix = typing and len(word) >= _MIN_FUZZY_PREFIX
            options.append(_scored(tantivy.Query.fuzzy_term_query(SCHEMA, "words", word, budget, True, as_prefix),
                                   _FUZZY))
        clauses.append((tantivy.Occur.Must, tantivy.Query.disjunction_max_query(options)))
    return tantivy.Query.boolean_query(clauses)


def _scored(query: tantivy.Query, score: float) -> tantivy.Query:
    return tantivy.Query.const_score_query(query, score)


def _regional_popularity(catalog: Catalog, region: str, track_ids: Sequence[int]) -> dict[int, float]:
    if not track_ids:
        return {}
    rows = catalog.query(f"SELECT track_id, popularity FROM popularity_by_region WHERE region = ? AND track_id IN "
                         f"({','.join('?' * len(track_ids))})", [region, *track_ids])
    return {int(row["track_id"]): float(row["popularity"]) for row in rows}
