"""Where untrusted bytes meet loro: importing and decoding them, turning loro's failures into refusals, and the
history every imported change must have. Loro alone accepts histories that a replica cannot load again later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from loro import ID, ChangeMeta, LoroDoc, VersionVector

from sync.errors import DecoderFault, ForeignUpdate, MalformedUpdate

_EMPTY_FRONTIERS = b"\x00"


def genesis_peer(playlist_id: str) -> int:
    """The Loro peer id that writes a playlist's first change; every other change descends from it."""
    digest = hashlib.sha256(f"legato-playlist:{playlist_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def check_history(doc: LoroDoc, playlist_id: str, spans: dict[int, tuple[int, int]]) -> None:
    """Every change ``doc`` imported (``spans``) must descend from the playlist's genesis (no foreign roots, no
    forged genesis) and from its peer's previous change: loro takes a change whose deps skip that one, but a
    replica that later loads the playlist's snapshot on top of the genesis refuses it ("it skips counters of
    its peer")."""
    genesis = genesis_peer(playlist_id)
    for peer, (start, end) in spans.items():
        counter = start
        while counter < end:
            change = doc.get_change(ID(peer, counter))
            if change is None:
                raise MalformedUpdate(f"the update claims changes of peer {peer} it does not carry")
            first, length = change.id.counter, change.len
            is_root = first == 0 and change.deps.encode() == _EMPTY_FRONTIERS
            if (peer == genesis and first + length > 1) or (is_root and peer != genesis):
                raise ForeignUpdate(f"the update does not belong to playlist {playlist_id}: its history starts "
                                    "at another playlist's genesis")
            if first > 0 and not _follows_its_peer(doc, change):
                raise MalformedUpdate(f"the update's change {first}@{peer} does not follow that peer's earlier "
                                      "edits")
            counter = first + length


def import_blob(doc: LoroDoc, blob: bytes) -> Any:
    """``doc.import_(blob)``, its failure raised as a refusal (MalformedUpdate, or DecoderFault on a panic)."""
    try:
        return doc.import_(blob)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - loro raises a bare BaseException for undecodable input
        raise _refusal(exc) from None


def decode_end(blob: bytes) -> VersionVector:
    """The version a replica holds once it has imported ``blob``; raises MalformedUpdate if it does not decode."""
    try:
        meta = LoroDoc.decode_import_blob_meta(blob, True)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - loro raises a bare BaseException for undecodable input
        raise _refusal(exc) from None
    if "Shallow" in str(meta.mode):
        raise MalformedUpdate("a shallow snapshot lacks the playlist's history; send updates or a full snapshot")
    return meta.partial_end_vv


@contextmanager
def loro_faults() -> Iterator[None]:
    """Loro decodes lazily, so reading a doc after an import may panic too: that is the update's fault."""
    try:
        yield
    except BaseException as exc:
        if _is_panic(exc):
            raise _refusal(exc) from None
        raise


def _follows_its_peer(doc: LoroDoc, change: ChangeMeta) -> bool:
    """Whether ``change`` (not its peer's first) has its peer's previous op among its causes, and a later clock."""
    peer, first = change.id.peer, change.id.counter
    causes = doc.frontiers_to_vv(change.deps)
    previous = doc.get_change(ID(peer, first - 1))
    if causes is None or not causes.includes_id(ID(peer, first - 1)) or previous is None:
        return False
    return change.lamport > previous.lamport + (first - 1 - previous.id.counter)


def _is_panic(exc: BaseException) -> bool:
    return type(exc).__name__ == "PanicException"  # pyo3_runtime's, not importable by name


def _refusal(exc: BaseException) -> MalformedUpdate:
    if _is_panic(exc):
        return DecoderFault(f"the update made the CRDT library fail ({exc}); it was refused")
    return MalformedUpdate(f"the update does not decode as a playlist update ({exc})")
