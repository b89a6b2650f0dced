"""The search index (tantivy) in DATA/search-index: one document per track, album and artist, kept in step with the
catalog through its change log (server/search_changes.py) and rebuilt whole when missing, stale or incomplete.

The catalog is the truth: the index holds nothing that cannot be rebuilt from it, and never writes the catalog
beyond trimming the change log it has applied.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import tantivy

from durable import write_atomically
from server import search_changes
from server.catalog import Catalog
from server.search_text import joined_terms, prefix_terms, words

_log = logging.getLogger(__name__)
INDEX_DIR = "search-index"
_STAMP = "legato-stamp.json"
FORMAT = 4  # bump when the schema, the folding or the segment layout changes: every older index is rebuilt at start
KINDS = ("track", "album", "artist")
_REBUILD_SHARE = 0.2  # past this share of the catalog changed, one rebuild is cheaper than the edits
_WRITER_HEAP_BYTES = 64_000_000
# A rebuild writes one segment: one thread (each writes its own) and an arena cap it never reaches at 1M tracks
# (~0.5 GB; a cap, not an allocation). A fuzzy word walks every segment's dictionary, and tantivy's merges never
# joined the five a two-thread build left, so the typo'd queries cost about five times as much (p95 11 vs 0.7 ms).
_REBUILD_HEAP_BYTES = 1_500_000_000
_BATCH = 500  # ids per query, well under SQLite's bound on parameters

_TRACKS = ("SELECT tracks.id, tracks.title AS name, artists.name AS credit, tracks.popularity, tracks.regions "
           "FROM tracks JOIN artists ON artists.id = tracks.artist_id")
_ALBUMS = ("SELECT albums.id, albums.title AS name, artists.name AS credit, MAX(tracks.popularity) AS popularity, "
           "GROUP_CONCAT(DISTINCT tracks.regions) AS regions FROM albums JOIN artists ON artists.id = "
           "albums.artist_id JOIN tracks ON tracks.album_id = albums.id {where} GROUP BY albums.id, artists.id")
# An artist is found through their own tracks and the tracks of the albums credited to them.
_ARTISTS = ("SELECT artists.id, artists.name AS name, '' AS credit, MAX(owned.popularity) AS popularity, "
            "GROUP_CONCAT(DISTINCT owned.regions) AS regions FROM artists JOIN ("
            "SELECT artist_id AS owner, popularity, regions FROM tracks {where_tracks} UNION ALL "
            "SELECT albums.artist_id, tracks.popularity, tracks.regions FROM tracks JOIN albums ON albums.id = "
            "tracks.album_id {where_albums}) AS owned ON owned.owner = artists.id GROUP BY artists.id")


@dataclass(frozen=True)
class Stamp:
    """What the index was built from: its format, the catalog generation applied, and the catalog's track count
    and highest track id then (a catalog replaced or edited behind the log's back shows there)."""

    format: int
    generation: int
    tracks: int
    top_track: int


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("kind_code", fast=True)  # its place in KINDS
    builder.add_unsigned_field("id", fast=True)
    builder.add_text_field("words", tokenizer_name="whitespace", index_option="basic")
    builder.add_text_field("joined", tokenizer_name="whitespace", index_option="basic")
    builder.add_text_field("prefixes", tokenizer_name="whitespace", index_option="basic")
    builder.add_text_field("regions", tokenizer_name="whitespace", index_option="basic")
    builder.add_float_field("popularity", fast=True)
    builder.add_unsigned_field("name_words", fast=True)
    return builder.build()


SCHEMA = _schema()


class SearchIndex:
    """The data dir's index: ``searcher()`` for queries, ``catch_up`` before them, ``rebuild`` on demand.

    Thread-safe: catching up and rebuilding take one lock; searchers stay valid while either runs.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / INDEX_DIR
        self._lock = threading.Lock()
        self._index: tantivy.Index | None = None
        self._stamp: Stamp | None = None

    def reconcile(self, catalog: Catalog) -> str:
        """At start: rebuild when the index is missing, of another format or stale, else apply what changed.
        Says which it did."""
        search_changes.install(catalog)
        with self._lock:
            stamp = self._read_stamp()
            if stamp is None or stamp.format != FORMAT or not tantivy.Index.exists(str(self.path)):
                return self._rebuild(catalog, "missing or of an older format")
            self._index, self._stamp = tantivy.Index.open(str(self.path)), stamp
            done = self._apply(catalog)
            assert self._stamp is not None
            if (self._stamp.tracks, self._stamp.top_track) != _track_shape(catalog):
                return self._rebuild(catalog, "stale: the catalog changed behind its change log")
            return done

    def behind(self, catalog: Catalog) -> bool:
        """Whether the catalog changed since the index last caught up (one cheap read)."""
        return self._stamp is None or search_changes.last_seq(catalog) != self._stamp.generation

    def catch_up(self, catalog: Catalog) -> None:
        """Apply the catalog's changes since the last call (nothing but ``behind`` when there are none)."""
        if not self.behind(catalog):
            return
        with self._lock:
            if self._stamp is None:
                self._rebuild(catalog, "never built")
            else:
                self._apply(catalog)

    def rebuild(self, catalog: Catalog) -> str:
        search_changes.install(catalog)
        with self._lock:
            return self._rebuild(catalog, "asked for")

    def searcher(self) -> tantivy.Searcher:
        assert self._index is not None, "reconcile() the index before searching it"
        return self._index.searcher()

    @property
    def documents(self) -> int:
        return self.searcher().num_docs

    def _apply(self, catalog: Catalog) -> str:
        """Apply the pending changes, or rebuild when they cannot be applied or cost more; says which it did."""
        assert self._index is not None and self._stamp is not None
        changes = search_changes.pending(catalog, self._stamp.generation)
        if not changes.complete:
            return self._rebuild(catalog, "its change log has a gap")
        if changes.count == 0:
            return "up to date"
        if changes.count > _REBUILD_SHARE * max(self._index.searcher().num_docs, 1):
            return self._rebuild(catalog, f"{changes.count} documents changed")
        writer = self._index.writer(_WRITER_HEAP_BYTES, 1)
        for kind, ids in (("track", changes.tracks), ("album", changes.albums), ("artist", changes.artists)):
            for ref_id in ids:
                writer.delete_documents("key", f"{kind}:{ref_id}")
            for document in _documents(catalog, kind, ids):
                writer.add_document(document)
        writer.commit()
        writer.wait_merging_threads()
        self._index.reload()
        self._finish(catalog, changes.last)
        return f"{changes.count} documents updated"

    def _rebuild(self, catalog: Catalog, reason: str) -> str:
        _log.info("rebuilding the search index in %s (%s)", self.path, reason)
        fresh = self.path.with_name(INDEX_DIR + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        index = tantivy.Index(SCHEMA, path=str(fresh))
        writer = index.writer(_REBUILD_HEAP_BYTES, 1)
        with catalog.read_snapshot():
            generation = search_changes.last_seq(catalog)
            for kind in KINDS:
                for document in _documents(catalog, kind, None):
                    writer.add_document(document)
        writer.commit()
        writer.wait_merging_threads()
        stale = self.path.with_name(INDEX_DIR + ".old")
        shutil.rmtree(stale, ignore_errors=True)
        if self.path.exists():
            self.path.rename(stale)
        fresh.rename(self.path)
        shutil.rmtree(stale, ignore_errors=True)
        self._index = tantivy.Index.open(str(self.path))
        self._finish(catalog, generation)
        return f"rebuilt ({reason})"

    def _finish(self, catalog: Catalog, generation: int) -> None:
        tracks, top = _track_shape(catalog)
        self._stamp = Stamp(FORMAT, generation, tracks, top)
        write_atomically(self.path / _STAMP, json.dumps(asdict(self._stamp)).encode())
        search_changes.trim(catalog, generation)

    def _read_stamp(self) -> Stamp | None:
        try:
            raw = json.loads((self.path / _STAMP).read_bytes())
            return Stamp(**{name: int(raw[name]) for name in ("format", "generation", "tracks", "top_track")})
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            _log.warning("the search index stamp in %s is unreadable (%s); rebuilding", self.path, exc)
            return None


def _track_shape(catalog: Catalog) -> tuple[int, int]:
    row = catalog.query_one("SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS top FROM tracks")
    assert row is not None
    return int(row["n"]), int(row["top"])


def _documents(catalog: Catalog, kind: str, ids: Iterable[int] | None) -> Iterator[tantivy.Document]:
    """The documents of ``kind`` for ``ids`` (every one when None); ids no longer in the catalog yield none."""
    wanted = None if ids is None else sorted(ids)
    batches = [None] if wanted is None else [wanted[at:at + _BATCH] for at in range(0, len(wanted), _BATCH)]
    rows = (row for batch in batches for row in _rows(catalog, kind, batch))
    for row in rows:
        regions = _regions(row["regions"])
        if not regions:
            continue  # licensed nowhere: nobody may find it
        name_words = words(str(row["name"]))
        every_word = name_words + words(str(row["credit"]))
        document = tantivy.Document(key=f"{kind}:{row['id']}", regions=" ".join(regions),
                                    words=" ".join(every_word), joined=joined_terms(every_word),
                                    prefixes=prefix_terms(every_word), popularity=float(row["popularity"] or 0))
        document.add_unsigned("kind_code", KINDS.index(kind))
        document.add_unsigned("id", int(row["id"]))
        document.add_unsigned("name_words", max(len(name_words), 1))
        yield document


def _rows(catalog: Catalog, kind: str, ids: list[int] | None) -> Iterator[dict[str, Any]]:
    marks = "" if ids is None else ",".join("?" * len(ids))
    if kind == "track":
        sql, params = _TRACKS + ("" if ids is None else f" WHERE tracks.id IN ({marks})"), ids or []
    elif kind == "album":
        sql = _ALBUMS.format(where="" if ids is None else f"WHERE albums.id IN ({marks})")
        params = ids or []
    else:
        sql = _ARTISTS.format(where_tracks="" if ids is None else f"WHERE tracks.artist_id IN ({marks})",
                              where_albums="" if ids is None else f"WHERE albums.artist_id IN ({marks})")
        params = (ids or []) * 2
    yield from catalog.query(sql, params)


def _regions(raw: object) -> list[str]:
    """The regions of a row: one JSON list, or several joined by GROUP_CONCAT."""
    if not raw:
        return []
    lists = json.loads(f"[{raw}]")
    return sorted({str(region) for each in lists for region in each})
