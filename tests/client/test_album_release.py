"""The album page of a scheduled album: "Coming <date, time in the user's zone>" with cover and tracks, nothing
playable, then "Available" and playable at the release instant, without a reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pytestqt.qtbot import QtBot

from client import catalog
from client.views.library import AlbumPage
from client.widgets.cover_cache import CoverCache


def test_a_coming_album_turns_playable_at_its_release(qtbot: QtBot, live_server: Any, api_token: str) -> None:
    url = live_server.url
    raw = httpx.get(f"{url}/albums/1", headers={"Authorization": f"Bearer {api_token}"}).json()
    release = datetime.now(UTC) + timedelta(seconds=1.5)
    raw["release_at"] = release.isoformat().replace("+00:00", "Z")
    page = AlbumPage(CoverCache(lambda album_id: httpx.get(f"{url}/albums/{album_id}/cover").content))
    qtbot.addWidget(page)
    page.show_album(catalog.album_with_tracks(raw))
    assert not page.play_button.isEnabled() and not page.tracks.isEnabled()
    assert page.play_button.text() == f"Coming {release.astimezone():%a %d %b %Y, %H:%M}"
    assert page.tracks.visible_tracks() and page.title.text() == raw["title"]
    qtbot.waitUntil(page.play_button.isEnabled, timeout=10_000)
    assert page.play_button.text() == "Available · Play" and page.tracks.isEnabled()
    raw["release_at"] = None
    page.show_album(catalog.album_with_tracks(raw))
    assert page.play_button.text() == "Play" and page.play_button.isEnabled()
