"""The play order: context behind the user's queue, shuffle, repeat, edits."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from client.catalog import Track
from client.playback.queue import PlayQueue, Repeat


def track(i: int) -> Track:
    return Track(id=i, title=f"t{i}", artist_id=1, artist="a", album_id=1, album="b", disc_no=1, track_no=i + 1,
                 duration_s=1.0, duration_samples=48_000, sample_rate=48_000, popularity=0, loudness_lufs=None,
                 peak_dbfs=None)


def tracks(n: int) -> list[Track]:
    return [track(i) for i in range(n)]


def ids(entries) -> list[int]:
    return [e.track.id for e in entries]


def test_context_plays_in_order_from_the_chosen_track() -> None:
    queue = PlayQueue()
    assert queue.play_context(tracks(5), 2).track.id == 2
    assert ids(queue.upcoming()) == [3, 4]
    assert queue.next_implicit().track.id == 3
    assert queue.previous().track.id == 2


def test_users_queue_plays_before_the_rest_of_the_context() -> None:
    queue = PlayQueue()
    queue.play_context(tracks(4), 0)
    queue.add_to_end([track(10)])
    queue.add_next([track(11)])
    assert ids(queue.upcoming()) == [11, 10, 1, 2, 3]
    assert [queue.next_explicit().track.id for _ in range(3)] == [11, 10, 1]


def test_repeat_one_replays_on_track_end_but_next_moves_on() -> None:
    queue = PlayQueue()
    queue.play_context(tracks(3), 0)
    queue.repeat = Repeat.ONE
    assert queue.next_implicit().track.id == 0
    assert ids(queue.upcoming())[0] == 0
    assert queue.next_explicit().track.id == 1


def test_repeat_all_wraps_to_the_start_and_the_end_stops_otherwise() -> None:
    queue = PlayQueue()
    queue.play_context(tracks(2), 1)
    assert queue.next_implicit() is None
    queue.play_context(tracks(2), 1)
    queue.repeat = Repeat.ALL
    assert ids(queue.upcoming()) == [0, 1]
    assert queue.next_implicit().track.id == 0


def test_shuffle_keeps_the_current_track_and_plays_every_other_once() -> None:
    queue = PlayQueue(random.Random(4))
    queue.play_context(tracks(20), 7)
    queue.set_shuffle(True)
    upcoming = ids(queue.upcoming())
    assert sorted(upcoming) == [i for i in range(8, 20)]
    assert upcoming != sorted(upcoming)
    queue.set_shuffle(False)
    assert ids(queue.upcoming()) == list(range(8, 20))


def test_move_reorders_within_a_section_and_remove_drops_entries() -> None:
    queue = PlayQueue()
    queue.play_context(tracks(5), 0)
    upcoming = queue.upcoming()
    queue.move(upcoming[3].entry_id, 0)
    assert ids(queue.upcoming()) == [4, 1, 2, 3]
    queue.remove([upcoming[0].entry_id])
    assert ids(queue.upcoming()) == [4, 2, 3]
    queue.clear()
    assert queue.upcoming() == [] and queue.current.track.id == 0


def test_advance_to_follows_the_engine_through_queue_and_context() -> None:
    queue = PlayQueue()
    queue.play_context(tracks(4), 0)
    queue.add_next([track(9)])
    target = queue.upcoming()[2]
    queue.advance_to(target)
    assert queue.current == target
    assert ids(queue.upcoming()) == [3]


def test_advance_to_an_entry_edited_away_keeps_the_queue_in_place() -> None:
    queue = PlayQueue()
    queue.play_context(tracks(4), 0)
    lined_up = queue.upcoming()[0]
    queue.remove([lined_up.entry_id])
    queue.advance_to(lined_up)
    assert queue.current == lined_up
    assert ids(queue.upcoming()) == [2, 3]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["next", "add", "remove", "move", "shuffle"]), st.integers(0, 30)),
                max_size=40))
def test_every_entry_plays_at_most_once_per_lap_without_repeat(ops) -> None:
    queue = PlayQueue(random.Random(1))
    queue.play_context(tracks(8), 0)
    played = [queue.current.entry_id]
    for op, n in ops:
        upcoming = queue.upcoming()
        if op == "next" and (entry := queue.next_explicit()) is not None:
            played.append(entry.entry_id)
        elif op == "add":
            queue.add_to_end([track(100 + n)])
        elif op == "remove" and upcoming:
            queue.remove([upcoming[n % len(upcoming)].entry_id])
        elif op == "move" and upcoming:
            queue.move(upcoming[n % len(upcoming)].entry_id, n % 5)
        elif op == "shuffle":
            queue.set_shuffle(n % 2 == 0)
        assert len({e.entry_id for e in queue.upcoming()}) == len(queue.upcoming())
        assert not set(played) & {e.entry_id for e in queue.upcoming()}
    assert len(played) == len(set(played))
