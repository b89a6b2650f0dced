"""A server on the demo's SQLite data dir and one on its ``db copy`` in PostgreSQL answer a fixed set of requests
(reads of every kind, then writes and the reads that show them) with the same statuses and bodies."""

from __future__ import annotations

import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.catalog import DB_NAME
from server.cli import main
from server.database import DATABASE_ENV
from server.upgrades import apply_pending
from sync import PlaylistDoc
from tests.helpers.playlist_peers import ServerProcess
from tests.helpers.server_api import edit, push

Request = tuple[str, str, dict[str, Any] | None]
_STAMPED = ("now", "liked_at", "created", "generated_at")
_RANDOM_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_the_copy_in_postgresql_answers_as_the_sqlite_data_dir_does(
        demo_data: Path, demo_login: tuple[str, str], tmp_path: Path, postgres_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    on_sqlite = tmp_path / "sqlite"
    shutil.copytree(demo_data, on_sqlite)
    apply_pending(on_sqlite)  # the upgrade steps done before the copy, not racing the requests on either server
    assert main(["db", "copy", "--data", str(on_sqlite), "--to", postgres_url]) == 0
    on_postgresql = tmp_path / "postgresql"
    shutil.copytree(on_sqlite, on_postgresql)  # the same origin files; the catalog only in PostgreSQL
    for stale in on_postgresql.glob(f"{DB_NAME}*"):
        stale.unlink()
    servers = [ServerProcess(on_sqlite, [])]
    monkeypatch.setenv(DATABASE_ENV, postgres_url)
    servers.append(ServerProcess(on_postgresql, []))
    try:
        started = datetime.now(UTC) - timedelta(hours=1)  # one play, the same instant for both
        answers = [_answers(server.url, demo_login, started) for server in servers]
    finally:
        for server in servers:
            server.stop()
    assert not (on_postgresql / DB_NAME).exists()
    sqlite_answers, postgresql_answers = answers
    assert len(sqlite_answers) == len(postgresql_answers)
    for (request, expected), (_same, answered) in zip(sqlite_answers, postgresql_answers, strict=True):
        assert answered == expected, request
    statuses = {status for _request, (status, _body) in sqlite_answers}
    assert statuses >= {200, 204, 404}  # the set reaches answers of every kind


def _answers(url: str, login: tuple[str, str], started: datetime) -> list[tuple[str, tuple[int, Any]]]:
    """Each request of the fixed set in order, and its status and JSON body."""
    token = httpx.post(f"{url}/auth/login", json={"username": login[0], "password": login[1]}).json()["token"]
    answered: list[tuple[str, tuple[int, Any]]] = []
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        albums = client.get("/albums").json()["albums"]
        for method, path, body in _requests(albums, started):
            response = client.request(method, path, json=body)
            answered.append((f"{method} {path}", (response.status_code, _body(response))))
        playlist_id = str(uuid.UUID(int=1))
        doc = PlaylistDoc.create(playlist_id)
        assert client.post("/playlists", json={"id": playlist_id, "public": True}).status_code == 201
        pushed = push(client, playlist_id, edit(doc, 1, by=login[0]), ids=["first"])
        answered.append(("push", (pushed.status_code, pushed.json())))
        for method, path, body in [("GET", "/playlists", None), ("GET", f"/playlists/{playlist_id}", None),
                                   ("GET", "/me/plays", None), ("GET", "/me/presaves", None),
                                   ("GET", "/me/discover-weekly", None)]:  # after: its playlist's id is random
            response = client.request(method, path, json=body)
            answered.append((f"{method} {path}", (response.status_code, _body(response))))
    return answered


def _requests(albums: list[dict[str, Any]], started: datetime) -> list[Request]:
    album = albums[0]
    play = {"id": str(uuid.UUID(int=7)), "track_id": 1, "started_at": started.isoformat(), "ms_played": 45_000,
            "completed": True, "skipped": False, "context": {"kind": "album", "id": str(album["id"])}}
    return [
        ("GET", "/me", None), ("GET", "/config", None), ("GET", "/artists", None), ("GET", "/albums", None),
        ("GET", f"/albums/{album['id']}", None), ("GET", f"/artists/{album['artist_id']}", None),
        ("GET", "/tracks", None), ("GET", "/tracks/1", None), ("GET", "/tracks/999999", None),
        ("GET", "/albums/999999", None), ("GET", f"/search?q={album['title'].split()[0]}", None),
        ("GET", "/search?q=zzzqqqxxx", None), ("GET", "/me/library", None), ("GET", "/me/likes", None),
        ("PUT", "/me/likes/1", None), ("PUT", f"/me/presaves/{album['id']}", None),
        ("POST", "/me/plays", {"events": [play]}), ("POST", "/me/plays", {"events": [play]}),
        ("GET", "/tracks/1/radio", None),
    ]


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    body = response.json()
    return _without_times(body)


def _without_times(value: Any) -> Any:
    """The body with what each server makes up itself left out: instants it stamps now (the clock, a like's, a
    pre-save's, a Discover Weekly's) and ids it draws at random (that playlist's). They differ between the two
    runs, not by engine."""
    if isinstance(value, dict):
        return {key: _without_times(item) for key, item in value.items() if key not in _STAMPED}
    if isinstance(value, list):
        return [_without_times(item) for item in value]
    if isinstance(value, str) and _RANDOM_ID.fullmatch(value):
        return "<uuid4>"
    return value
