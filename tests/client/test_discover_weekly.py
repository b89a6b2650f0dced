"""Discover Weekly on Home, from the real server: its picks each with the reason they were picked (one of the user's
own plays), and Play plays them as Discover Weekly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from client.api import ApiClient
from client.bundled import BundledServer
from client.history.store import wire_time
from client.listening import PlayContext
from client.recommendations.weekly_card import PicksModel
from tests.helpers.own_server import USERS, own_server
from tests.helpers.running_app import started_app

ALICE = ("alice", USERS["alice"][0])


@pytest.fixture
def server(demo_data: Path, tmp_path: Path) -> Iterator[BundledServer]:
    """A server of the test's own, where alice has listened to three tracks (her Discover Weekly is not made yet)."""
    with own_server(demo_data, tmp_path / "own") as started:
        yield started


def test_discover_weekly_shows_on_home_with_the_reason_of_each_pick_and_plays_as_itself(
        qtbot, server, secret_service, tmp_path: Path) -> None:
    api = ApiClient(server.url)
    api.login(*ALICE)
    played = api.tracks()["tracks"][:3]
    an_hour_ago = wire_time(datetime.now(UTC) - timedelta(hours=1))
    api.post_plays([{"id": str(uuid.uuid4()), "track_id": track["id"], "started_at": an_hour_ago, "ms_played": 6000,
                     "completed": True, "skipped": False, "context": {"kind": "album", "id": None}}
                    for track in played])

    app = started_app(qtbot, server, tmp_path, login=ALICE)
    window = app.window
    card = window.home.discover_weekly
    qtbot.waitUntil(lambda: card.picks.rowCount() > 0, timeout=15_000)
    expected = api.discover_weekly()  # the week the app was shown (made on its first use, then kept)
    api.close()
    assert card.isVisible() and card.play_button.isEnabled()
    assert card.details.text().startswith(f"Week of {expected['week_of']}")
    titles = [card.picks.index(row, 1).data() for row in range(card.picks.rowCount())]
    reasons = [card.picks.index(row, PicksModel.WHY_COLUMN).data() for row in range(card.picks.rowCount())]
    assert titles == [pick["track"]["title"] for pick in expected["tracks"]]
    assert set(reasons) <= {f"Because you played {track['title']}" for track in played}
    assert not set(titles) & {track["title"] for track in played}

    with qtbot.waitSignal(app.session.playback.track_changed, timeout=15_000) as started:
        card.play_button.click()
    assert started.args[0].id == expected["tracks"][0]["track"]["id"]
    assert app.session.playback.context == PlayContext("discover_weekly", expected["playlist_id"])
    window.close()
