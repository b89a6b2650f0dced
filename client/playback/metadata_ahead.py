"""Metadata ahead of the click: the manifests and licences of what the user may play next, in one
`POST /manifests` per few hundred tracks, so a play asks the network for audio alone. Runs on the thread pool;
never fetches audio, never keeps a key unwrapped on disk (licences go to the content store, wrapped)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cache import ContentStore, FileKey, FileManifest
from client.api import MAX_BATCH_TRACKS, ApiClient
from client.playback.sequencing import Loudness, album_loudness

MAX_WAVEFORM_CHARS = 4096  # a server's waveform is 216 characters; anything far longer is refused, not decoded


@dataclass(frozen=True)
class Known:
    """What a play of one track needs besides its audio: the file at the streaming quality, its album's
    loudness, and its licence key when the user is entitled to it (None: the play asks, and hears why not)."""

    manifest: FileManifest
    album: Loudness
    key: FileKey | None
    waveform: bytes | None = None


def fetch_known(api: ApiClient, track_ids: Sequence[int], quality: str, store: ContentStore | None,
                opening_track_id: int | None = None) -> dict[int, Known]:
    """By track id, what the server says of `track_ids` at `quality` (tracks without that quality are left
    out); licences are also kept in `store` (wrapped on disk, as a fetched licence is), and so is the opening
    chunk of `opening_track_id`'s file (asked for in the same request when there is a store to keep it)."""
    known: dict[int, Known] = {}
    unique = list(dict.fromkeys(track_ids))
    for start in range(0, len(unique), MAX_BATCH_TRACKS):
        part = unique[start:start + MAX_BATCH_TRACKS]
        opening = opening_track_id if store is not None and opening_track_id in part else None
        batch = api.manifests(part, quality, opening)
        for track_id, manifest in batch.manifests.items():
            file = next((f for f in manifest["files"] if f["quality"] == quality), None)
            if file is None:
                continue
            parsed = FileManifest.from_json(file)
            key = batch.licences.get(parsed.file_id)
            if key is not None and store is not None:
                store.store_key(parsed, key)
            known[track_id] = Known(parsed, album_loudness(manifest), key, waveform_levels(manifest))
            if store is not None and batch.opening is not None and batch.opening[0] == parsed.file_id:
                _keep_opening(store, parsed, batch.opening[1])
    return known


def waveform_levels(manifest: Mapping[str, Any]) -> bytes | None:
    """The manifest's ``waveform`` (base64, a byte a slice), or None when it has none or it is not what it says."""
    encoded = manifest.get("waveform")
    if not isinstance(encoded, str) or len(encoded) > MAX_WAVEFORM_CHARS:
        return None
    try:
        return base64.b64decode(encoded, validate=True) or None
    except binascii.Error:
        return None


def _keep_opening(store: ContentStore, manifest: FileManifest, data: bytes) -> None:
    """The whole chunks of a file's opening bytes into the store (each checked against the manifest there)."""
    index = 0
    while index < manifest.chunk_count and manifest.chunk_span(index)[1] <= len(data):
        chunk_start, chunk_end = manifest.chunk_span(index)
        store.save_chunk(manifest, index, data[chunk_start:chunk_end], durable=False)
        index += 1
