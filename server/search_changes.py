"""The catalog's log of what the search index must redo: triggers note every track, album, artist and regional
popularity change in ``search_changes``, whoever writes (ingest, edits, deletes, imports, older code, another
instance): SQLite's own, or their PL/pgSQL equivalent on PostgreSQL.

The index reads this log and trims what it has applied; nothing here touches the index itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.catalog import Catalog

_SQLITE_LOG = """
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
# The generation is a row of its own, bumped in the writing transaction: a sequence would hand out numbers to
# transactions still open (or rolled back), and the index would skip their changes once it had read past them.
_POSTGRESQL_LOG = """
CREATE TABLE IF NOT EXISTS search_changes (seq BIGINT PRIMARY KEY, kind TEXT NOT NULL, ref_id BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS search_generation (id INTEGER PRIMARY KEY CHECK (id = 1), last BIGINT NOT NULL);
INSERT INTO search_generation (id, last) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
CREATE OR REPLACE FUNCTION search_note(change_kind TEXT, ref BIGINT) RETURNS void LANGUAGE sql AS $$
    WITH next AS (UPDATE search_generation SET last = last + 1 WHERE id = 1 RETURNING last)
    INSERT INTO search_changes (seq, kind, ref_id) SELECT last, change_kind, ref FROM next $$;
CREATE OR REPLACE FUNCTION search_track_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM search_note('track', NEW.id); PERFORM search_note('album', NEW.album_id);
        PERFORM search_note('artist', NEW.artist_id);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM search_note('track', OLD.id); PERFORM search_note('album', OLD.album_id);
        PERFORM search_note('artist', OLD.artist_id);
    END IF;
    RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION search_album_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    PERFORM search_note('album', CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END); RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION search_artist_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    IF TG_OP = 'DELETE' THEN PERFORM search_note('artist', OLD.id); RETURN NULL; END IF;
    PERFORM search_note('artist', NEW.id);
    PERFORM search_note('track', id) FROM tracks WHERE artist_id = NEW.id;
    PERFORM search_note('album', id) FROM albums WHERE artist_id = NEW.id;
    RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION search_region_popularity_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    PERFORM search_note('track', NEW.track_id); RETURN NULL; END $$;
CREATE OR REPLACE TRIGGER search_track_added AFTER INSERT ON tracks
    FOR EACH ROW EXECUTE FUNCTION search_track_changed();
CREATE OR REPLACE TRIGGER search_track_edited AFTER UPDATE OF title, artist_id, album_id, popularity, regions
    ON tracks FOR EACH ROW EXECUTE FUNCTION search_track_changed();
CREATE OR REPLACE TRIGGER search_track_deleted AFTER DELETE ON tracks
    FOR EACH ROW EXECUTE FUNCTION search_track_changed();
CREATE OR REPLACE TRIGGER search_album_edited AFTER UPDATE OF title, artist_id ON albums
    FOR EACH ROW EXECUTE FUNCTION search_album_changed();
CREATE OR REPLACE TRIGGER search_album_deleted AFTER DELETE ON albums
    FOR EACH ROW EXECUTE FUNCTION search_album_changed();
CREATE OR REPLACE TRIGGER search_artist_edited AFTER UPDATE OF name ON artists
    FOR EACH ROW EXECUTE FUNCTION search_artist_changed();
CREATE OR REPLACE TRIGGER search_artist_deleted AFTER DELETE ON artists
    FOR EACH ROW EXECUTE FUNCTION search_artist_changed();
CREATE OR REPLACE TRIGGER search_region_popularity_added AFTER INSERT OR UPDATE ON popularity_by_region
    FOR EACH ROW EXECUTE FUNCTION search_region_popularity_changed();
"""
_INSTALL_LOCK_KEY = 0x53656172  # "Sear": instances starting together replace the functions one at a time


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
    if not catalog.postgresql:
        catalog.executescript(_SQLITE_LOG)
        return
    with catalog.transaction():
        catalog.execute("SELECT pg_advisory_xact_lock(?)", [_INSTALL_LOCK_KEY])
        catalog.executescript(_POSTGRESQL_LOG)


def last_seq(catalog: Catalog) -> int:
    """The newest change ever logged (kept even once the rows are trimmed): the catalog's generation."""
    row = catalog.query_one("SELECT last AS seq FROM search_generation" if catalog.postgresql
                            else "SELECT seq FROM sqlite_sequence WHERE name = 'search_changes'")
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
        catalog.execute("DELETE FROM search_changes WHERE seq <= ?", [upto])
