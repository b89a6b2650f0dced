"""Discover Weekly on Home, from the real server: its picks each with the reason they were picked, and Play plays them
as Discover Weekly."""

from __future__ import annotations

from pathlib import Path

from client.api import ApiClient
from client.listening import PlayContext
from client.recommendations.weekly_card import PicksModel
from tests.helpers.running_app import started_app


def test_discover_weekly_shows_on_home_with_the_reason_of_each_pick_and_plays_as_itself(
        qtbot, live_server, demo_login, secret_service, tmp_path: Path) -> None:
    api = ApiClient(live_server.url)
    api.login(*demo_login)
    expected = api.discover_weekly()
    api.close()
    assert expected["tracks"], "the demo server has no Discover Weekly picks for the demo user"

    app = started_app(qtbot, live_server, tmp_path)
    window = app.window
    card = window.home.discover_weekly
    qtbot.waitUntil(lambda: card.picks.rowCount() == len(expected["tracks"]), timeout=15_000)
    assert card.isVisible() and card.play_button.isEnabled()
    assert card.details.text().startswith(f"Week of {expected['week_of']}")
    titles = [card.picks.index(row, 1).data() for row in range(card.picks.rowCount())]
    reasons = [card.picks.index(row, PicksModel.WHY_COLUMN).data() for row in range(card.picks.rowCount())]
    assert titles == [pick["track"]["title"] for pick in expected["tracks"]]
    assert reasons == [pick["reason_text"] for pick in expected["tracks"]]
    assert all(reason.startswith("Because you played ") for reason in reasons)

    with qtbot.waitSignal(app.session.playback.track_changed, timeout=15_000) as started:
        card.play_button.click()
    assert started.args[0].id == expected["tracks"][0]["track"]["id"]
    assert app.session.playback.context == PlayContext("discover_weekly", expected["playlist_id"])
    window.close()
