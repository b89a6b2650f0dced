"""Editing the queue while it plays: the tracks after the one heard change without a gap or a restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from player import Engine, QueueFinished, QueueItem, RenderSink, TrackStarted
from player.wav import read_wav
from tests.helpers.audio_fixtures import Album
from tests.helpers.render_harness import TIMEOUT_S, Recorder, as_float, start_engine


def decoded_ahead(engine: Engine, frames: int) -> None:
    """Wait until the worker has queued `frames` frames: the next track is decoded before the edit."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        ring = engine._feeder.ring  # the engine's own test may look at its worker's ring
        if ring is not None and ring.written >= frames:
            return
        assert time.monotonic() < deadline, "the worker did not decode ahead"
        time.sleep(0.005)


def play_out(engine: Engine, sink: RenderSink, recorder: Recorder, out: Path) -> np.ndarray:
    while not recorder.finished.is_set():
        sink.advance(4096)
    engine.close()
    frames, _ = read_wav(out)
    return frames


def edit_after_decoding(tracks: Album, out: Path, pick: Callable[[list[QueueItem]], list[QueueItem]]
                        ) -> tuple[np.ndarray, Recorder]:
    """Queue the first two tracks, let the worker decode both, then make the upcoming items `pick(all)`."""
    items = tracks.items()
    engine, sink, recorder = start_engine(out, manual=True)
    engine.set_queue(items[:2])
    engine.play()
    sink.advance(256)
    decoded_ahead(engine, tracks.lengths[0] + tracks.lengths[1])
    assert engine.replace_upcoming(0, pick(items))
    assert engine.sync()
    return play_out(engine, sink, recorder, out), recorder


def test_replacing_a_decoded_next_track_splices_the_new_one_gaplessly(
        album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    heard, recorder = edit_after_decoding(tracks, tmp_path / "out.wav", lambda items: [items[2]])
    first, _, third = np.split(as_float(tracks.signal), np.cumsum(tracks.lengths)[:2])
    assert np.array_equal(heard, np.concatenate([first, third]))
    names = [path.name for path in tracks.paths]
    assert [e.key for e in recorder.of_type(TrackStarted)] == [names[0], names[2]]


def test_an_unchanged_next_track_keeps_its_decoded_audio_and_more_is_appended(
        album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    heard, recorder = edit_after_decoding(tracks, tmp_path / "out.wav", lambda items: items[1:])
    assert np.array_equal(heard, as_float(tracks.signal))
    assert len(recorder.of_type(QueueFinished)) == 1


def test_replace_is_refused_once_the_listener_has_moved_on(album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    a, b, c = tracks.items()
    engine, sink, recorder = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_queue([a, b])
    engine.play()
    sink.advance(tracks.lengths[0] + 100)
    assert engine.position().index == 1
    assert not engine.replace_upcoming(0, [c])
    heard = play_out(engine, sink, recorder, tmp_path / "out.wav")
    assert len(heard) == tracks.lengths[0] + tracks.lengths[1]
