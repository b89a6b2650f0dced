"""The history store: plays kept at once and queued until sent, clears queued in generations, likes mirrored from
the server with the toggles it has not heard laid on top. Real SQLite, no server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from client.history.store import HistoryStore
from client.listening import PlayEnded
from tests.helpers.listening import START, a_track
from tests.helpers.listening import a_play as play_of


def a_play(track_id: int, minutes: int = 0, completed: bool = False, skipped: bool = True) -> PlayEnded:
    return play_of(a_track(track_id), minutes=minutes, completed=completed, skipped=skipped)


def test_a_play_is_queued_until_sent_and_survives_a_reopen(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    first = store.record(a_play(1, minutes=0))
    second = store.record(a_play(2, minutes=5, completed=True, skipped=False))
    store.close()

    again = HistoryStore(tmp_path)
    events = again.unsent(10)
    assert [e["id"] for e in events] == [first, second]
    assert events[0] == {"id": first, "track_id": 1, "started_at": "2026-11-30T10:00:00.000Z", "ms_played": 42_000,
                         "completed": False, "skipped": True, "context": {"kind": "album", "id": "1"}}
    again.mark_sent([first], rejected={})
    again.mark_sent([second], rejected={second: "unknown_track"})
    assert again.unsent(10) == [] and again.unsent_count() == 0
    shown = again.recent(10)
    assert [p.id for p in shown] == [second, first] and all(p.sent for p in shown)
    assert shown[0].track == a_track(2) and shown[0].completed


def test_a_clear_forgets_every_play_and_stays_pending_until_done_for_its_generation(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    store.record(a_play(1))
    first = store.clear_plays()
    assert store.recent(10) == [] and store.unsent(10) == []
    second = store.clear_plays()  # cleared again before the server heard of the first
    store.cleared(first)
    assert store.clear_pending() == second
    store.cleared(second)
    assert store.clear_pending() is None
    after = store.record(a_play(3))
    assert [e["id"] for e in store.unsent(10)] == [after]


def test_the_server_likes_replace_the_mirror_but_unsent_toggles_stay_on_top(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    store.set_liked(a_track(1), True, START)
    store.set_liked(a_track(2), True, START)
    store.set_liked(a_track(2), False, START + timedelta(seconds=1))
    pending = store.pending_likes()
    assert [(p.track_id, p.liked) for p in pending] == [(1, True), (2, False)]
    store.like_sent(pending[0])
    store.set_liked(a_track(3), True, START)
    store.like_sent(pending[1])
    # The server knows 1 (sent) and 2 (its unlike was sent meanwhile), not yet 3.
    store.replace_likes([(a_track(1), START), (a_track(2), START), (a_track(4), START)])
    assert {track.id for track, _ in store.liked()} == {1, 2, 3, 4}
    store.replace_likes([(a_track(1), START), (a_track(4), START)])
    assert {track.id for track, _ in store.liked()} == {1, 3, 4}  # 3 is still on its way: kept
    store.set_liked(a_track(4), False, START)
    store.replace_likes([(a_track(1), START), (a_track(4), START)])
    assert {track.id for track, _ in store.liked()} == {1, 3}  # 4's unlike is on its way: not brought back
