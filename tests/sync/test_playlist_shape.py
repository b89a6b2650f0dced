"""The whole-document checks: valid loro that is not a playlist is refused, and a push proves it round-trips.

Every shape here is one an attacker produced with loro's own API; each is refused by ``import_updates`` (a
client pulling it) and by ``merge_push`` (the server checking a push), with the replica left unchanged.
"""

from __future__ import annotations

import pytest
from loro import LoroDoc

from sync import (
    MAX_ENTRIES,
    MAX_SNAPSHOT_BYTES,
    MAX_STORED_SNAPSHOT_BYTES,
    InvalidState,
    InvalidUpdate,
    PlaylistDoc,
    PlaylistTooLarge,
)
from tests.helpers.hostile_shapes import WRONG_SHAPES, crafted

PLAYLIST = "8a3e5c1d-0000-4000-8000-00000000beef"


@pytest.mark.parametrize("shape", list(WRONG_SHAPES))
def test_valid_loro_of_the_wrong_shape_is_refused_by_pull_and_by_push(shape: str) -> None:
    base = PlaylistDoc.create(PLAYLIST)
    base.add(1, "alice")
    update = crafted(base, WRONG_SHAPES[shape])
    before = base.state()
    with pytest.raises(InvalidState):
        base.import_updates([update])
    with pytest.raises(InvalidState):
        base.merge_push([update], "alice")
    assert base.state() == before
    assert base.merge_push([crafted(base, lambda doc: doc.get_map("meta").insert("name", "ok"))], "alice")


def test_a_push_may_add_entries_only_in_its_pushers_name() -> None:
    base = PlaylistDoc.create(PLAYLIST)
    base.add(1, "alice")
    forger, honest = (PlaylistDoc.from_updates(PLAYLIST, [base.snapshot()]) for _ in range(2))
    version = forger.version()
    forger.add(2, "alice")  # bob's replica, naming alice as the adder
    with pytest.raises(InvalidState, match="attributed to 'alice'"):
        base.merge_push([forger.export_since(version)], "bob")
    version = honest.version()
    honest.add(3, "bob")
    honest.move(honest.entry_ids()[0], 1)  # moving alice's entry is fine: it is still hers, unchanged
    merged = base.merge_push([honest.export_since(version)], "bob").doc
    assert [(entry.track_id, entry.added_by) for entry in merged.entries()] == [(3, "bob"), (1, "alice")]


def test_a_merged_push_is_its_snapshot_and_its_updates_as_loro_exports_them() -> None:
    base = PlaylistDoc.create(PLAYLIST)
    editor = PlaylistDoc.from_updates(PLAYLIST, [base.snapshot()])
    version = editor.version()
    editor.add(5, "alice")
    editor.rename("Morning")
    update = editor.export_since(version)
    merged = base.merge_push([update, update], "alice")  # the second is an echo: applied, adds nothing
    assert merged.doc.state() == editor.state()
    assert PlaylistDoc.from_updates(PLAYLIST, [merged.snapshot]).state() == editor.state()
    assert PlaylistDoc.from_updates(PLAYLIST, list(merged.updates)).state() == editor.state()
    assert len(merged.updates) == 2 and base.state().entries == ()


def test_a_push_that_would_pass_the_entry_limit_is_too_large_but_a_loader_takes_the_overshoot() -> None:
    base = PlaylistDoc.create(PLAYLIST)
    for track in range(MAX_ENTRIES - 1):
        base.add(track + 1, "alice")
    first, second = (PlaylistDoc.from_updates(PLAYLIST, [base.snapshot()]) for _ in range(2))
    first_version, second_version = first.version(), second.version()
    first.add(1, "alice")
    second.add(2, "alice")  # concurrent with the other: together they pass the limit
    full = base.merge_push([first.export_since(first_version)], "alice").doc
    overshoot = second.export_since(second_version)
    with pytest.raises(PlaylistTooLarge, match=f"at most {MAX_ENTRIES} entries"):
        full.merge_push([overshoot], "alice")
    assert full.import_updates([overshoot])  # a replica holding both still loads: its loader allows more
    assert len(full) == MAX_ENTRIES + 1


def test_the_push_limit_on_bytes_is_well_below_what_a_loader_accepts() -> None:
    assert MAX_STORED_SNAPSHOT_BYTES <= MAX_SNAPSHOT_BYTES // 2


def test_an_update_that_is_not_loro_at_all_is_refused_by_push() -> None:
    with pytest.raises(InvalidUpdate):
        PlaylistDoc.create(PLAYLIST).merge_push([b"loro" + bytes(40)], "alice")


def test_a_move_racing_a_remove_may_bring_back_someone_elses_entry_hidden() -> None:
    base = PlaylistDoc.create(PLAYLIST)
    base.add(1, "alice")
    base.add(2, "alice")
    remover, mover = (PlaylistDoc.from_updates(PLAYLIST, [base.snapshot()]) for _ in range(2))
    target = base.entry_ids()[0]
    version = remover.version()
    remover.remove(target)
    removal = base.merge_push([remover.export_since(version)], "alice").doc
    version = mover.version()
    mover.move(target, 1)  # bob had not seen the removal: loro keeps the moved element, by alice
    merged = removal.merge_push([mover.export_since(version)], "bob")
    raw = LoroDoc()
    raw.import_(merged.snapshot)
    assert target in [item["id"] for item in raw.get_movable_list("entries").get_value()]  # back, in loro's list
    assert target not in merged.doc.entry_ids() and len(merged.doc) == 1  # and hidden from every replica


def test_taking_an_id_off_the_removed_list_is_refused() -> None:
    base = PlaylistDoc.create(PLAYLIST)
    base.add(1, "alice")
    base.remove(base.entry_ids()[0])
    with pytest.raises(InvalidState, match="removals are final"):
        base.merge_push([crafted(base, lambda doc: doc.get_map("removed").delete(
            next(iter(doc.get_map("removed").keys()))))], "alice")
