"""Talking to the real server's playlist and error API in tests: an error's shape, a new playlist, pushes of edits."""

from __future__ import annotations

import random
import string
import uuid
from typing import Any

import httpx

from sync import OutgoingUpdate, PlaylistDoc, PushRequest


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the API's error ``code`` with ``status`` and a message; returns the error object."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


def new_playlist(client: httpx.Client, public: bool = False) -> tuple[str, PlaylistDoc]:
    """A playlist registered on the server by ``client``'s user, and a fresh replica of it."""
    playlist_id = str(uuid.uuid4())
    assert client.post("/playlists", json={"id": playlist_id, "public": public}).status_code == 201
    return playlist_id, PlaylistDoc.create(playlist_id)


def push(client: httpx.Client, playlist_id: str, *updates: bytes, ids: list[str] | None = None) -> httpx.Response:
    update_ids = ids or [str(uuid.uuid4()) for _ in updates]
    body = PushRequest(tuple(OutgoingUpdate(i, data) for i, data in zip(update_ids, updates, strict=True)))
    return client.post(f"/playlists/{playlist_id}/updates", json=body.to_json())


def push_rename(client: httpx.Client, doc: PlaylistDoc, name: str) -> int:
    """Rename ``doc`` and push that one update; the log's last seq after it."""
    before = doc.version()
    doc.rename(name)
    response = push(client, doc.playlist_id, doc.export_since(before))
    assert response.status_code == 200, response.text
    return int(response.json()["last_seq"])


def edit(doc: PlaylistDoc, track: int, by: str = "alice") -> bytes:
    """The update that adds ``track`` by ``by`` at the end of ``doc``."""
    version = doc.version()
    doc.add(track, by)
    return doc.export_since(version)


def description_updates(doc: PlaylistDoc, rng: random.Random, count: int) -> list[bytes]:
    """Updates of ~240 KB each: sixty rewrites of a 4,000-character description (history keeps them all)."""
    updates = []
    for _ in range(count):
        version = doc.version()
        for _ in range(60):
            doc.set_description("".join(rng.choices(string.ascii_letters, k=4_000)))
        updates.append(doc.export_since(version))
    return updates
