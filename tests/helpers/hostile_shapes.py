"""Valid loro updates that are not playlists: each made with loro's own API on top of a real playlist.

Shared by the CRDT tests (tests/sync) and the server's push tests (tests/server), which refuse all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from loro import ExportMode, LoroCounter, LoroDoc, LoroMap, LoroText

from sync import PlaylistDoc


def entry(by: str = "alice") -> dict[str, object]:
    return {"id": str(uuid.uuid4()), "track": 7, "by": by, "at": 1_700_000_000_000}


def crafted(base: PlaylistDoc, change: Callable[[LoroDoc], object]) -> bytes:
    """An update made by raw loro on top of ``base``: what a hostile client can send."""
    raw = LoroDoc()
    raw.import_(base.snapshot())
    version = raw.oplog_vv
    change(raw)
    raw.commit()
    return bytes(raw.export(ExportMode.Updates(version)))


def entry_as_map_container(doc: LoroDoc) -> None:
    fields = doc.get_movable_list("entries").insert_container(0, LoroMap())
    for key, value in entry().items():
        fields.insert(key, value)


WRONG_SHAPES: dict[str, Callable[[LoroDoc], object]] = {
    "a tree as meta": lambda doc: doc.get_tree("meta").create(),
    "a counter as meta": lambda doc: doc.get_counter("meta").increment(1),
    "a second root list named entries": lambda doc: doc.get_list("entries").insert(0, entry()),
    "a text named entries": lambda doc: doc.get_text("entries").insert(0, "hi"),
    "an entry as a map container": entry_as_map_container,
    "meta.name as a text container": lambda doc: doc.get_map("meta").insert_container("name", LoroText()).insert(
        0, "Road trip"),
    "a counter inside meta": lambda doc: doc.get_map("meta").insert_container("collaborative", LoroCounter()),
    "an unknown root map": lambda doc: doc.get_map("junk").insert("x", 1),
    "an entry id with a newline": lambda doc: doc.get_movable_list("entries").insert(0, {**entry(), "id": "a\nb"}),
    "a removed flag that is not true": lambda doc: doc.get_map("removed").insert(str(uuid.uuid4()), 1),
}
