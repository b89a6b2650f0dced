"""One contract, every sink: the same album through the render sink and the device sink gives
paired track events in order, every frame played once, and no underrun."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from player import (
    DeviceSink,
    Engine,
    QueueFinished,
    RenderSink,
    Sink,
    StateChanged,
    TrackEnded,
    TrackStarted,
)
from tests.helpers.audio_fixtures import Album
from tests.helpers.render_harness import TIMEOUT_S, Recorder


def _sink(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Sink:
    if kind == "device":
        request.getfixturevalue("pulse")
        return DeviceSink("pulse")
    return RenderSink(tmp_path / "out.wav")


@pytest.mark.parametrize("kind", ["render", pytest.param("device", marks=pytest.mark.device)])
def test_every_start_is_paired_with_an_end_and_every_frame_is_played_once(
        kind: str, request: pytest.FixtureRequest, album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    recorder = Recorder()
    engine = Engine(_sink(kind, request, tmp_path), recorder)
    engine.set_queue(tracks.items())
    engine.play()
    assert recorder.finished.wait(TIMEOUT_S)
    engine.close()
    transitions = [e for e in recorder.events if isinstance(e, TrackStarted | TrackEnded)]
    assert [(type(e).__name__, e.index) for e in transitions] == [
        (kind_name, index) for index in range(3) for kind_name in ("TrackStarted", "TrackEnded")]
    assert recorder.events[-2:] == [QueueFinished(), StateChanged("stopped")]
    assert engine.frames_played == len(tracks.signal)
    assert engine.underruns == 0
    assert engine.state == "stopped"
