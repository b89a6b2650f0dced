"""Fast skipping: a burst of jumps goes straight to the last one instead of opening every track on the way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from player import TrackStarted
from tests.helpers.audio_fixtures import Album
from tests.helpers.render_harness import start_engine


def test_a_burst_of_skips_plays_only_the_last_choice(album: Callable[..., Album], tmp_path: Path) -> None:
    opened: list[str] = []
    items = album("flac").items()

    def counting(item):
        def open_source():
            opened.append(item.key)
            return item.open_source()
        return type(item)(item.key, open_source, item.frames)

    counted = [counting(item) for item in items]
    engine, sink, recorder = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_queue(counted, 0)
    engine.play()
    for index in [1, 2] * 25 + [1]:
        engine.set_queue(counted, index)
    assert engine.sync()
    sink.advance(2048)
    started = recorder.of_type(TrackStarted)
    assert started[-1] == TrackStarted(1, items[1].key)
    assert len(opened) < 10, f"opened {len(opened)} sources for 52 jumps"
    engine.close()
