"""Your listening in the whole app, on a real server: the user's plays drawn as hours per week and top artists and
tracks (the bars are the server's figures), and a plain word instead of charts when the server is gone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from client.bundled import BundledServer
from client.history.listening_page import WEEKS
from tests.helpers.own_server import USERS, own_server
from tests.helpers.running_app import started_app


@pytest.fixture
def server(demo_data: Path, tmp_path: Path) -> Iterator[BundledServer]:
    """A server of this test's own: the plays it posts must not reach the session-wide one."""
    with own_server(demo_data, tmp_path / "own") as started:
        yield started


def post_plays(server: BundledServer, plays: list[tuple[int, datetime, int]]) -> None:
    """Plays of alice's, who has none in the demo catalog (the demo user has a short history)."""
    login = {"username": "alice", "password": USERS["alice"][0]}
    token = httpx.post(f"{server.url}/auth/login", json=login).json()["token"]
    events = [{"id": str(uuid.uuid4()), "track_id": track_id, "started_at": started.isoformat(), "ms_played": ms,
               "completed": True, "skipped": False, "context": {"kind": "search", "id": None}}
              for track_id, started, ms in plays]
    answer = httpx.post(f"{server.url}/me/plays", json={"events": events},
                        headers={"Authorization": f"Bearer {token}"}).json()
    assert answer["accepted"] == len(events), answer


def test_the_page_draws_the_servers_figures(qtbot: Any, server: BundledServer, secret_service: Any,
                                            tmp_path: Path) -> None:
    now = datetime.now(UTC)
    post_plays(server, [(1, now - timedelta(hours=2), 50_000), (1, now - timedelta(hours=3), 50_000),
                        (2, now - timedelta(days=8), 40_000), (3, now - timedelta(days=15), 30_000)])
    app = started_app(qtbot, server, tmp_path, login=("alice", USERS["alice"][0]))
    window = app.window
    assert window is not None
    window.go_to("Your listening")
    page = window.listening
    qtbot.waitUntil(lambda: page.summary is not None and page.weeks_chart is not None, timeout=15_000)
    summary = page.summary
    assert summary is not None and len(summary.weeks) == WEEKS
    assert sum(ms for _, ms in summary.weeks) == 170_000
    assert page.bars(page.weeks_chart) == pytest.approx([ms / 3_600_000 for _, ms in summary.weeks])
    assert summary.top_tracks[0][0].id == 1 and summary.top_tracks[0][1].plays == 2
    assert page.bars(page.tracks_chart) == pytest.approx(
        [heard.ms_played / 60_000 for _, heard in summary.top_tracks])
    assert page.bars(page.artists_chart) == pytest.approx([heard.ms_played / 60_000 for heard in summary.top_artists])
    assert sum(heard.ms_played for heard in summary.top_artists) == 170_000  # all within the last DAYS
    assert page.status.text().startswith("3 minutes heard in the last 12 weeks")
    assert page.weeks_chart.isVisible()

    server.stop()
    page.refresh()
    qtbot.waitUntil(lambda: "cannot be shown right now" in page.status.text(), timeout=30_000)
    assert not page.weeks_chart.isVisible()  # no stale pictures under the word that they cannot be shown
    window.close()
