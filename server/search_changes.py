"""The catalog's log of what the search index must redo: SQLite triggers note every track, album, artist and
regional popularity change in ``search_changes``, whoever writes (ingest, edits, deletes, imports, older code).

The index reads this log and trims what it has applied; nothing here touches the index itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.catalog import Catalog

_LOG = """
CREATE TABLE IF NOT EXISTS search_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, ref_id INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS search_track_added AFTER INSERT ON tracks BEGIN
    INSERT INTO search_changes (kind, ref_id) VALUES ('track', NEW.id), ('album', NEW.album_id),
                                                     ('artist', NEW.artist_id);
END;
CREATE TRIGGER IF NOT EXISTS search_track_edited
AFTER UPDATE OF title, artist_id, album_id, popularity, regions ON tracks BEGIN
    INSERT INTO search_changes (kind, ref_id) VALUES ('track', NEW.id), ('album', OLD.album_id),
        ('album', NEW.album_id), ('artist', OLD.artist_id), ('artist', NEW.artist_id);
END;
CREATE TRIGGER IF NOT EXISTS search_track_deleted AFTER DELETE ON tracks BEGIN
    INSERT INTO search_changes (kind, ref_id) VALUES ('track', OLD.id), ('album', OLD.album_id),
                                                     ('artist', OLD.artist_id);
END;
CREATE TRIGGER IF NOT EXISTS search_album_edited AFTER UPDATE OF title, artist_id ON albums BEGIN
    INSERT INTO search_changes (kind, ref_id) VALUES ('album', NEW.id);
END;
CREATE TRIGGER IF NOT EXISTS search_album_deleted AFTER DELETE ON albums BEGIN
    INSERT INTO search_changes (kind, ref_id) VALUES ('album', OLD.id);
END;
CREATE TRIGGER IF NOT EXISTS search_artist_edited AFTER UPDATE OF name ON artists BEGIN
    INSERT INTO search_changes (kind, ref_id) VALUES ('artist', NEW.id);
    INSERT INTO search_changes (kind, ref_id) SELECT 'track', id FROM tracks WHERE artist_id = NEW.id;
    INSERT INTO search_changes (kind, ref_id) SELECT 'album', id FROM albums WHERE artist_id = NEW.id;
END;
CREATE TRIGGER IF NOT EXISTS search_artist_deleted AFTER DELETE ON artists BEGIN
    INSERT INTO search_changes (kind, ref_id) VALUES ('artist', OLD.id);
END;
CREATE TRIGGER IF NOT EXISTS search_region_popularity_added AFTER INSERT ON popularity_by_region BEGIN
    INSERT INTO search_changes (kind, ref_id) VALUES ('track', NEW.track_id);
END;
CREATE TRIGGER IF NOT EXISTS search_region_popularity_edited AFTER UPDATE ON popularity_by_region BEGIN
    INSERT INTO search_changes (kind, ref_id) VALUES ('track', NEW.track_id);
END;
"""


@dataclass(frozen=True)
class Pending:
    """The changes after ``after`` up to ``last`` (the newest ever logged), by kind; ``complete`` is False when
    some of them were trimmed away already, so only a rebuild can catch up."""

    after: int
    last: int
    tracks: frozenset[int]
    albums: frozenset[int]
    artists: frozenset[int]
    complete: bool

    @property
    def count(self) -> int:
        return len(self.tracks) + len(self.albums) + len(self.artists)


def install(catalog: Catalog) -> None:
    """Create the log and its triggers when missing (idempotent)."""
    catalog.db.executescript(_LOG)


def last_seq(catalog: Catalog) -> int:
    """The newest change ever logged (kept by SQLite even once the rows are trimmed): the catalog's generation."""
    row = catalog.query_one("SELECT seq FROM sqlite_sequence WHERE name = 'search_changes'")
    return 0 if row is None else int(row["seq"])


def pending(catalog: Catalog, after: int) -> Pending:
    """What changed since generation ``after``."""
    last = last_seq(catalog)
    if last <= after:
        return Pending(after, after, frozenset(), frozenset(), frozenset(), complete=last == after)
    first = catalog.query_one("SELECT MIN(seq) AS seq FROM search_changes WHERE seq > ?", [after])
    complete = first is not None and first["seq"] == after + 1
    rows = catalog.query("SELECT DISTINCT kind, ref_id FROM search_changes WHERE seq > ? AND seq <= ?",
                         [after, last])
    by_kind: dict[str, set[int]] = {"track": set(), "album": set(), "artist": set()}
    for row in rows:
        by_kind[str(row["kind"])].add(int(row["ref_id"]))
    return Pending(after, last, frozenset(by_kind["track"]), frozenset(by_kind["album"]),
                   frozenset(by_kind["artist"]), complete=complete)


def trim(catalog: Catalog, upto: int) -> None:
    """Forget the changes the index has applied (the generation counter stays)."""
    with catalog.transaction():
        catalog.db.execute("DELETE FROM search_changes WHERE seq <= ?", [upto])
