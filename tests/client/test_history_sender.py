"""Plays and likes reach the real server: recorded while it is down, sent once it is back, exactly once each, and
resent harmlessly after a crash between the send and the mark."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from client import catalog
from client.api import ApiClient
from client.catalog import Track
from client.history.sender import HistorySender
from client.history.store import DB_NAME, HistoryStore
from tests.conftest import DEMO_USER, LiveServer, start_server, stop_server
from tests.helpers.listening import a_play, server_plays

WAIT_S = 30.0


@pytest.fixture
def own(demo_data: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """A server of this test's own on a copy of the demo catalog (the test stops and restarts it)."""
    data_dir = tmp_path / "server"
    shutil.copytree(demo_data, data_dir)
    server = start_server(data_dir)
    yield server
    stop_server(server)


def sender_on(api: ApiClient, store: HistoryStore, news: list[str]) -> HistorySender:
    sender = HistorySender(api, store, news.append, lambda message: pytest.fail(message))
    sender.start()
    return sender


def test_plays_recorded_while_the_server_is_down_reach_it_once_after_reconnect(own: LiveServer,
                                                                               tmp_path: Path) -> None:
    api = ApiClient(own.url)
    api.login(*DEMO_USER)
    tracks: list[Track] = [catalog.track(raw) for raw in api.tracks()["tracks"][:3]]
    port = int(own.url.rsplit(":", 1)[1])
    stop_server(own)
    store = HistoryStore(tmp_path / "history")
    news: list[str] = []
    sender = sender_on(api, store, news)
    now = datetime.now(UTC) - timedelta(hours=1)
    ids = [store.record(a_play(track, now, minutes=index)) for index, track in enumerate(tracks)]
    sender.wake()
    assert not sender.wait_settled(1.0)  # nothing can be sent: the server is gone
    assert store.unsent_count() == 3

    again = start_server(own.data_dir, port)
    try:
        assert sender.wait_settled(WAIT_S)
        assert store.unsent_count() == 0 and "plays" in news
        assert sorted(server_plays(api, ids)) == sorted(ids)

        # A crash after the server took them but before they were marked sent: the next start sends them again.
        sender.close()
        store.close()
        with sqlite3.connect(tmp_path / "history" / DB_NAME) as db:
            db.execute("UPDATE plays SET state = 'queued'")
        store = HistoryStore(tmp_path / "history")
        resent = sender_on(api, store, news)
        assert resent.wait_settled(WAIT_S) and store.unsent_count() == 0
        assert sorted(server_plays(api, ids)) == sorted(ids)  # still once each
        resent.close()
    finally:
        store.close()
        stop_server(again)
        api.close()


def test_a_clear_reaches_the_server_before_the_plays_recorded_after_it(own: LiveServer, tmp_path: Path) -> None:
    api = ApiClient(own.url)
    api.login(*DEMO_USER)
    track = catalog.track(api.tracks()["tracks"][0])
    store = HistoryStore(tmp_path / "history")
    sender = sender_on(api, store, [])
    now = datetime.now(UTC) - timedelta(hours=1)
    before = store.record(a_play(track, now))
    sender.wake()  # as the controller does after each record: the start's own wake may have found nothing yet
    assert sender.wait_settled(WAIT_S) and server_plays(api, [before]) == [before]
    store.clear_plays()
    after = store.record(a_play(track, now, minutes=5))
    sender.wake()
    assert sender.wait_settled(WAIT_S)
    assert [str(play["id"]) for play in api.plays(limit=500)["plays"]] == [after]  # the clear went first
    sender.close()
    store.close()
    api.close()


def test_likes_toggled_offline_reach_the_server_as_their_last_state(own: LiveServer, tmp_path: Path) -> None:
    api = ApiClient(own.url)
    api.login(*DEMO_USER)
    already = [raw["id"] for raw in api.likes()["tracks"]]  # the copied demo data dir may hold likes of its own
    first, second = [catalog.track(raw) for raw in api.tracks()["tracks"] if raw["id"] not in already][:2]
    store = HistoryStore(tmp_path / "history")
    sender = sender_on(api, store, [])
    sender.set_online(False)
    now = datetime.now(UTC)
    store.set_liked(first, True, now)
    store.set_liked(second, True, now)
    store.set_liked(second, False, now)
    sender.wake()
    assert not sender.wait_settled(0.5)  # offline: nothing is sent
    assert [raw["id"] for raw in api.likes()["tracks"]] == already
    sender.set_online(True)
    assert sender.wait_settled(WAIT_S)
    assert [raw["id"] for raw in api.likes()["tracks"]] == [first.id, *already]
    assert [track.id for track, _ in store.liked()] == [first.id, *already]
    sender.close()
    store.close()
    api.close()
