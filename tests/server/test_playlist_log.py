"""The update log's writes, in process over a real catalog and real update-worker processes.

An append that fails half way leaves nothing behind, and the worker that checked it forgets what it saw.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from server import playlists
from server.auth import create_user
from server.catalog import Catalog
from server.update_pool import UpdateWorkers
from sync import MissingDependencies, OutgoingUpdate, PlaylistDoc
from tests.helpers.postgres import ON_BOTH_ENGINES

pytestmark = ON_BOTH_ENGINES

PLAYLIST = "log-test-playlist"


@pytest.fixture()
def workers() -> Iterator[UpdateWorkers]:
    pool = UpdateWorkers(size=1)
    pool.start()
    yield pool
    pool.close()


def edit(doc: PlaylistDoc, track: int) -> OutgoingUpdate:
    version = doc.version()
    doc.add(track, "alice")
    return OutgoingUpdate(f"update-{track}", doc.export_since(version))


def log_rows(catalog: Catalog) -> list[tuple[int, str]]:
    return [(int(row["seq"]), str(row["update_id"])) for row in catalog.query(
        "SELECT seq, update_id FROM playlist_updates WHERE playlist_id = ? ORDER BY seq", [PLAYLIST])]


def fill_disk_at_second_row(catalog: Catalog) -> None:
    """A trigger that fails the insert of a log's second row as a full disk would (SQLite's own message; on
    PostgreSQL its disk_full error)."""
    if not catalog.postgresql:
        catalog.execute("CREATE TRIGGER disk_full BEFORE INSERT ON playlist_updates WHEN NEW.seq = 2 "
                        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
        return
    catalog.execute("CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.seq = 2 THEN "
                    "RAISE EXCEPTION 'database or disk is full' USING ERRCODE = 'disk_full'; END IF; "
                    "RETURN NEW; END $$")
    catalog.execute("CREATE TRIGGER disk_full BEFORE INSERT ON playlist_updates FOR EACH ROW "
                    "EXECUTE FUNCTION disk_full()")


def test_an_append_that_fails_half_way_stores_nothing_and_the_worker_forgets_it(tmp_path: Path,
                                                                                 workers: UpdateWorkers) -> None:
    catalog = Catalog.open(tmp_path)
    alice = create_user(catalog, "alice", "pw", "GB")
    record, created = playlists.create(catalog, PLAYLIST, alice.id, public=False)
    assert created and playlists.create(catalog, PLAYLIST, alice.id, public=False)[1] is False
    doc = PlaylistDoc.create(PLAYLIST)
    first, second = edit(doc, 1), edit(doc, 2)
    # The disk fills up as the second row goes in: the append fails half way through its transaction.
    fill_disk_at_second_row(catalog)
    with pytest.raises(sa.exc.DBAPIError, match="disk is full"), playlists.locked(catalog, PLAYLIST, workers):
        playlists.append(catalog, record, workers, [first, second], alice.id, "alice")
    catalog.execute("DROP TRIGGER disk_full ON playlist_updates" if catalog.postgresql else "DROP TRIGGER disk_full")
    assert log_rows(catalog) == []  # the first update's row went too: one transaction
    assert playlists.find(catalog, PLAYLIST) == record
    # Another writer now fills seqs 1-2 with a different history; the worker must not still hold the failed one.
    other = PlaylistDoc.create(PLAYLIST)
    third, fourth = edit(other, 3), edit(other, 4)
    with catalog.transaction():
        for seq, update in enumerate((third, fourth), start=1):
            catalog.execute("INSERT INTO playlist_updates (playlist_id, seq, update_id, author_id, data) "
                            "VALUES (?, ?, ?, ?, ?)", [PLAYLIST, seq, update.update_id, alice.id, update.data])
        catalog.execute("UPDATE playlists SET last_seq = 2 WHERE id = ?", [PLAYLIST])
    moved_on = playlists.find(catalog, PLAYLIST)
    assert moved_on is not None
    with pytest.raises(MissingDependencies), playlists.locked(catalog, PLAYLIST, workers):
        playlists.append(catalog, moved_on, workers, [edit(doc, 5)], alice.id, "alice")  # the log lacks ``first``
    with playlists.locked(catalog, PLAYLIST, workers):
        result, logged = playlists.append(catalog, moved_on, workers, [edit(other, 6)], alice.id, "alice")
    assert result.last_seq == 3 and [entry.seq for entry in logged] == [3]
    catalog.close()


def test_rows_an_interrupted_write_left_past_last_seq_are_neither_served_nor_in_the_way(
        tmp_path: Path, workers: UpdateWorkers) -> None:
    catalog = Catalog.open(tmp_path)
    alice = create_user(catalog, "alice", "pw", "GB")
    record, _created = playlists.create(catalog, PLAYLIST, alice.id, public=False)
    with catalog.transaction():  # what the server before real transactions left when killed mid-append
        catalog.execute("INSERT INTO playlist_updates (playlist_id, seq, update_id, author_id, data) "
                        "VALUES (?, 1, 'half-written', ?, ?)", [PLAYLIST, alice.id, b"\x00"])
    assert playlists.since(catalog, record, 0).updates == ()
    doc = PlaylistDoc.create(PLAYLIST)
    with playlists.locked(catalog, PLAYLIST, workers):
        result, _logged = playlists.append(catalog, record, workers, [edit(doc, 1)], alice.id, "alice")
    assert result.seqs == (1,) and log_rows(catalog) == [(1, "update-1")]
    catalog.close()
