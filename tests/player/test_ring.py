"""The shared ring and the playhead that consumes it: order, wrap-around, flush, gain ramps,
holds and underrun counting."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from player.playhead import Playhead
from player.ring import Ring


@pytest.fixture
def ring() -> Iterator[Ring]:
    ring = Ring.create(capacity=100)
    yield ring
    ring.close()


def _frames(start: int, count: int) -> np.ndarray:
    return np.repeat(np.arange(start, start + count, dtype=np.float32)[:, None], 2, axis=1)


@settings(max_examples=50, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 150), st.integers(0, 150)), max_size=30))
def test_frames_come_out_in_order_across_wrap_around(steps: list[tuple[int, int]]) -> None:
    ring = Ring.create(capacity=100)
    try:
        written = read = 0
        out = np.zeros((150, 2), np.float32)
        for write_count, read_count in steps:
            written += ring.write(_frames(written, write_count))
            got = ring.read_into(out[:read_count], read_count)
            assert np.array_equal(out[:got], _frames(read, got))
            read += got
            assert 0 <= written - read <= ring.capacity
    finally:
        ring.close()


def test_dropped_frames_are_never_read(ring: Ring) -> None:
    out = np.zeros((50, 2), np.float32)
    ring.write(_frames(0, 30))
    ring.read_into(out, 10)
    ring.drop_queued()
    ring.write(_frames(100, 5))
    assert ring.read_into(out, 50) == 5
    assert np.array_equal(out[:5], _frames(100, 5))


def _playing(ring: Ring, gain: float = 1.0) -> Playhead:
    ring.target_gain = ring.current_gain = gain
    ring.ramp_frames = 10
    return Playhead(ring, max_block_frames=16)


def test_full_gain_copies_exactly(ring: Ring) -> None:
    head = _playing(ring)
    ring.write(_frames(1, 40))
    out = np.zeros((40, 2), np.float32)
    head.fill(out)
    assert np.array_equal(out, _frames(1, 40))
    assert ring.played == 40 and ring.underruns == 0


def test_a_short_ring_is_silence_and_one_underrun(ring: Ring) -> None:
    head = _playing(ring)
    ring.write(_frames(1, 5))
    out = np.ones((20, 2), np.float32)
    head.fill(out)
    assert np.array_equal(out[:5], _frames(1, 5)) and not out[5:].any()
    assert ring.underruns == 1


def test_running_dry_at_the_end_of_the_queue_is_not_an_underrun(ring: Ring) -> None:
    head = _playing(ring)
    ring.write(_frames(1, 5))
    ring.end = 5
    head.fill(np.zeros((20, 2), np.float32))
    assert ring.underruns == 0


def test_fading_to_zero_ramps_then_holds_without_consuming(ring: Ring) -> None:
    head = _playing(ring)
    ring.write(np.ones((60, 2), np.float32))
    ring.target_gain = 0.0
    out = np.zeros((30, 2), np.float32)
    head.fill(out)
    assert np.allclose(out[:10, 0], np.arange(9, -1, -1) / 10) and not out[10:].any()
    assert ring.played == 10 and ring.underruns == 0
    head.fill(out)
    assert ring.played == 10 and head.holding()
    ring.target_gain = 1.0
    head.fill(out)
    assert np.allclose(out[:10, 0], np.arange(1, 11) / 10) and np.all(out[10:] == 1.0)


def test_volume_is_reached_exactly_after_the_ramp(ring: Ring) -> None:
    head = _playing(ring)
    ring.write(np.ones((60, 2), np.float32))
    ring.target_gain = 0.7
    out = np.zeros((40, 2), np.float32)
    head.fill(out)
    assert np.all(np.diff(out[:3, 0]) < 0) and np.all(out[2:] == np.float32(0.7))
    assert ring.current_gain == 0.7
