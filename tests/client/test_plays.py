"""The play tracker: each play ends exactly once, run out or left, with how far the listener got."""

from __future__ import annotations

from datetime import UTC, datetime

from client.listening import QUEUE, PlayContext
from client.playback.plays import PlayTracker
from client.playback.queue import Entry
from player import Position
from tests.helpers.listening import a_track

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_a_track_that_runs_out_is_completed_with_its_whole_length() -> None:
    tracker = PlayTracker(clock=lambda: NOW)
    assert tracker.started(Entry(7, a_track(1), False), PlayContext("album", "1")) is None
    ended = tracker.ran_out("7")
    assert ended is not None and ended.completed and not ended.skipped
    assert ended.ms_played == 180_000 and ended.started_at == NOW and ended.context == PlayContext("album", "1")
    assert tracker.ran_out("7") is None


def test_a_track_left_for_another_is_skipped_where_the_listener_was_and_its_later_end_is_not_a_second_play() -> None:
    tracker = PlayTracker(clock=lambda: NOW)
    tracker.started(Entry(3, a_track(2), True), QUEUE)
    ended = tracker.left(Position(0, "3", 48000 * 12, 48000), skipped=True)
    assert ended is not None and ended.skipped and not ended.completed and ended.ms_played == 12_000
    assert ended.context == QUEUE
    assert tracker.ran_out("3") is None  # the engine's end of the item the user left
    assert tracker.left(Position(0, "3", 0, 48000), skipped=True) is None


def test_a_play_stopped_at_quit_is_neither_completed_nor_skipped() -> None:
    tracker = PlayTracker(clock=lambda: NOW)
    tracker.started(Entry(1, a_track(1), False), PlayContext("search"))
    ended = tracker.left(Position(0, "1", 48000 * 31, 48000), skipped=False)
    assert ended is not None and not ended.completed and not ended.skipped and ended.ms_played == 31_000
