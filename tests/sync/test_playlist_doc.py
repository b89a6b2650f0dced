"""PlaylistDoc: the concurrency rules between replicas, and validation of what other replicas send."""

from __future__ import annotations

import pytest
from loro import ExportMode, LoroDoc

from sync import (
    EntryNotFound,
    ForeignUpdate,
    InvalidEdit,
    InvalidState,
    MalformedUpdate,
    MissingDependencies,
    OversizedUpdate,
    PlaylistDoc,
)
from tests.helpers.loro_blobs import SKIPPING_PLAYLIST, skips_its_peers_change

PLAYLIST = "6d1c2c8e-0000-4000-8000-000000000001"


def replicas(count: int, tracks: int = 0) -> list[PlaylistDoc]:
    """``count`` replicas of one playlist that all hold the same ``tracks`` first entries."""
    first = PlaylistDoc.create(PLAYLIST)
    for track in range(1, tracks + 1):
        first.add(track, "alice")
    return [first] + [PlaylistDoc.from_updates(PLAYLIST, [first.snapshot()]) for _ in range(count - 1)]


def exchange(*docs: PlaylistDoc) -> None:
    for source in docs:
        for target in docs:
            if target is not source:
                target.import_updates([source.export_since(None)], max_bytes=1 << 24)


def tracks(doc: PlaylistDoc) -> list[int]:
    return [entry.track_id for entry in doc.entries()]


def test_the_same_track_can_be_added_twice_as_two_entries() -> None:
    (doc,) = replicas(1)
    first, second = doc.add(7, "alice"), doc.add(7, "alice")
    assert first.entry_id != second.entry_id
    assert tracks(doc) == [7, 7]


def test_concurrent_moves_of_one_entry_land_it_in_exactly_one_place() -> None:
    a, b = replicas(2, tracks=5)
    moved = a.entries()[0].entry_id
    a.move(moved, 4)
    b.move(moved, 2)
    exchange(a, b)
    assert a.state() == b.state()
    assert a.entry_ids().count(moved) == 1 and len(a) == 5


@pytest.mark.parametrize("remover_first", [True, False])
def test_a_remove_racing_a_move_wins_and_the_entry_is_gone_everywhere(remover_first: bool) -> None:
    a, b, c = replicas(3, tracks=4)
    target = a.entries()[1].entry_id
    a.move(target, 3)
    b.remove(target)
    exchange(*((b, a, c) if remover_first else (a, b, c)))
    for doc in (a, b, c):
        assert target not in doc.entry_ids()
        assert len(doc) == 3
    assert a.state() == b.state() == c.state()
    a.add(99, "alice", 0)  # the next local edit deletes the hidden element for good
    exchange(a, b, c)
    assert a.state() == b.state() == c.state() and tracks(a)[0] == 99


def test_concurrent_inserts_at_one_spot_do_not_interleave() -> None:
    a, b = replicas(2, tracks=2)
    for offset, track in enumerate((11, 12, 13)):
        a.add(track, "alice", 1 + offset)
    for offset, track in enumerate((21, 22, 23)):
        b.add(track, "bob", 1 + offset)
    exchange(a, b)
    merged = tracks(a)
    assert merged == tracks(b)
    assert merged[1:7] in ([11, 12, 13, 21, 22, 23], [21, 22, 23, 11, 12, 13])


def test_name_description_and_flag_are_last_writer_wins() -> None:
    a, b = replicas(2)
    a.rename("Road trip")
    b.rename("Gym")
    b.set_description("loud")
    a.set_collaborative(True)
    exchange(a, b)
    assert a.state() == b.state()
    assert a.name in {"Road trip", "Gym"} and a.description == "loud" and a.collaborative


def test_local_edits_with_bad_arguments_are_refused_and_change_nothing() -> None:
    (doc,) = replicas(1, tracks=2)
    before = doc.state()
    with pytest.raises(InvalidEdit):
        doc.add(5, "alice", index=3)
    with pytest.raises(InvalidEdit):
        doc.add(0, "alice")
    with pytest.raises(InvalidEdit):
        doc.move(doc.entry_ids()[0], 2)
    with pytest.raises(EntryNotFound):
        doc.remove("no-such-entry")
    with pytest.raises(InvalidEdit):
        doc.rename("x" * 201)
    assert doc.state() == before


def test_export_since_a_version_carries_only_later_edits() -> None:
    a, b = replicas(2, tracks=1)
    version = a.version()
    a.add(2, "alice")
    update = a.export_since(version)
    assert len(update) < len(a.export_since(None))
    assert b.import_updates([update])
    assert a.state() == b.state()
    assert not b.import_updates([update])  # a repeat is recognised and ignored


def _refused(doc: PlaylistDoc, update: bytes, error: type[Exception]) -> None:
    before, version = doc.state(), doc.version()
    with pytest.raises(error):
        doc.import_updates([update])
    assert doc.state() == before and doc.version() == version


def test_malformed_and_oversized_updates_are_refused_leaving_the_doc_unchanged() -> None:
    a, b = replicas(2, tracks=3)
    _refused(a, b"definitely not loro", MalformedUpdate)
    good = b.export_since(None)
    _refused(a, good[: len(good) // 2], MalformedUpdate)
    _refused(a, b"\0" * 300_000, OversizedUpdate)


def test_an_update_for_another_playlist_is_refused() -> None:
    (doc,) = replicas(1, tracks=2)
    other = PlaylistDoc.create("another-playlist")
    version = other.version()
    other.add(5, "mallory")
    _refused(doc, other.export_since(None), ForeignUpdate)
    _refused(doc, other.export_since(version), MissingDependencies)
    stranger = LoroDoc()
    stranger.get_movable_list("entries").insert(0, {"id": "e", "track": 1, "by": "m", "at": 0})
    _refused(doc, bytes(stranger.export(ExportMode.Snapshot())), ForeignUpdate)


def test_a_change_that_skips_its_peers_previous_one_is_refused() -> None:
    # Found by the push fuzzer: a mutated snapshot in which a peer's second change does not descend from its first.
    # Loro takes it; a replica holding it was wedged once one more change arrived, since its snapshot no longer
    # loaded on top of the genesis ("it skips counters of its peer").
    crafted = skips_its_peers_change()
    assert LoroDoc().import_(crafted).pending is None
    _refused(PlaylistDoc.create(SKIPPING_PLAYLIST), crafted, MalformedUpdate)


def test_an_update_that_would_break_an_invariant_is_refused() -> None:
    a, b = replicas(2, tracks=2)
    raw = LoroDoc()
    raw.import_(a.snapshot())
    version = raw.oplog_vv
    duplicate = dict(raw.get_movable_list("entries").get_value()[0])
    raw.get_movable_list("entries").insert(0, duplicate)
    raw.commit()
    _refused(b, bytes(raw.export(ExportMode.Updates(version))), InvalidState)
    raw2 = LoroDoc()
    raw2.import_(a.snapshot())
    version = raw2.oplog_vv
    raw2.get_map("meta").insert("name", 42)
    raw2.get_map("junk").insert("x", 1)
    raw2.commit()
    _refused(b, bytes(raw2.export(ExportMode.Updates(version))), InvalidState)
