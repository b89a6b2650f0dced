"""The engine end to end on the render sink: gapless across codecs, events at the boundary frame,
bad tracks skipped, transport sample-accurate, gain ramps and normalisation."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from player import (
    BytesSource,
    Engine,
    FileSource,
    PlaybackError,
    QueueFinished,
    QueueItem,
    RenderSink,
    StateChanged,
    TrackEnded,
    TrackStarted,
)
from player.wav import read_wav
from tests.helpers.audio_fixtures import Album, encode, make_signal
from tests.helpers.render_harness import (
    TIMEOUT_S,
    Recorder,
    as_float,
    assert_faded_in,
    best_lag,
    ramp_frames,
    render,
    start_engine,
)


@pytest.mark.parametrize("codec", ["flac", "opus", "mp3", "aac"])
def test_album_renders_back_to_its_exact_length_and_alignment(
        codec: str, album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album(codec)
    frames, rate, _ = render(tracks.items(), tmp_path / "out.wav")
    reference = as_float(tracks.signal)
    assert rate == tracks.rate
    assert len(frames) == len(reference)
    starts = np.cumsum((0, *tracks.lengths))
    for start, end in itertools.pairwise(starts):
        assert best_lag(frames, reference, int(start) + 2048) == 0
        assert best_lag(frames, reference, int(end) - 6144) == 0


@pytest.mark.parametrize("codec", ["opus", "mp3", "aac"])
def test_lossy_boundaries_are_no_rougher_than_the_rest(
        codec: str, album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album(codec)
    frames, _, _ = render(tracks.items(), tmp_path / "out.wav")
    reference = as_float(tracks.signal)
    error = frames - reference
    overall_rms = float(np.sqrt((error ** 2).mean()))
    own_max_step = float(np.abs(np.diff(reference, axis=0)).max())
    for boundary in np.cumsum(tracks.lengths)[:-1]:
        near = error[boundary - 1024:boundary + 1024]
        assert np.sqrt((near ** 2).mean()) < 2.0 * overall_rms
        assert np.abs(frames[boundary] - frames[boundary - 1]).max() < 1.5 * own_max_step


def test_flac_album_is_bit_exact_in_16_bit(album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    frames, _, _ = render(tracks.items(), tmp_path / "out.wav", subtype="pcm16")
    assert np.array_equal(np.round(frames * 32768).astype(np.int16), tracks.signal)


def test_flac_album_is_bit_exact_in_float32(album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    frames, _, _ = render(tracks.items(), tmp_path / "out.wav")
    assert np.array_equal(frames, as_float(tracks.signal))


def test_track_events_fall_on_the_boundary_frame(album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    _, _, recorder = render(tracks.items(), tmp_path / "out.wav")
    keys = [path.name for path in tracks.paths]
    transitions = [event for event in recorder.events if not isinstance(event, StateChanged)]
    assert transitions == [
        TrackStarted(0, keys[0]), TrackEnded(0, keys[0]), TrackStarted(1, keys[1]), TrackEnded(1, keys[1]),
        TrackStarted(2, keys[2]), TrackEnded(2, keys[2]), QueueFinished(),
    ]
    assert [(p.index, p.frames) for p in recorder.positions_at_start] == [(0, 0), (1, 0), (2, 0)]
    assert recorder.events[-1] == StateChanged("stopped")


def test_a_queue_of_mixed_rates_is_resampled_once_to_the_first_tracks_rate(
        album: Callable[..., Album], tmp_path: Path) -> None:
    flac, opus = album("flac"), album("opus")
    frames, rate, _ = render(flac.items()[:1] + opus.items()[:1], tmp_path / "out.wav")
    assert rate == 44100
    expected = flac.lengths[0] + opus.lengths[0] * 44100 / 48000
    assert abs(len(frames) - expected) <= 1
    assert np.array_equal(frames[:flac.lengths[0]], as_float(flac.signal[:flac.lengths[0]]))


def test_render_rate_can_be_forced(album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    frames, rate, _ = render(tracks.items(), tmp_path / "out.wav", rate=48000)
    assert rate == 48000
    assert abs(len(frames) - len(tracks.signal) * 48000 / 44100) <= 1


def _bad_inputs(tmp_path: Path, good: Path) -> dict[str, QueueItem]:
    data = good.read_bytes()
    corrupt = bytearray(data)
    rng = np.random.default_rng(7)
    corrupt[200:] = rng.integers(0, 256, len(corrupt) - 200, dtype=np.uint8).tobytes()
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(data[:len(data) // 2])
    text = tmp_path / "notes.flac"
    text.write_text("these are not the sounds you are looking for\n" * 50)
    return {
        "corrupt": QueueItem("corrupt", lambda: BytesSource(bytes(corrupt), "corrupt")),
        "truncated": QueueItem("truncated", lambda: FileSource(truncated)),
        "text": QueueItem("text", lambda: FileSource(text)),
        "missing": QueueItem("missing", lambda: FileSource(tmp_path / "gone.flac")),
        "empty": QueueItem("empty", lambda: BytesSource(b"", "empty")),
    }


def test_bad_tracks_raise_an_error_event_and_the_queue_goes_on(
        album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    good = tracks.items()
    bad = _bad_inputs(tmp_path, tracks.paths[2])
    queue = [good[0], bad["corrupt"], bad["truncated"], bad["text"], bad["missing"], bad["empty"], good[1]]
    frames, _, recorder = render(queue, tmp_path / "out.wav")
    failed = {event.key: event.message for event in recorder.of_type(PlaybackError)}  # type: ignore[attr-defined]
    assert set(failed) == {"corrupt", "truncated", "text", "missing", "empty"}
    assert "truncated" in failed["truncated"]
    started = [event.index for event in recorder.of_type(TrackStarted)]  # type: ignore[attr-defined]
    assert started[0] == 0 and started[-1] == 6
    first, second = tracks.lengths[0], tracks.lengths[1]
    reference = as_float(tracks.signal)
    assert np.array_equal(frames[:first], reference[:first])
    assert np.array_equal(frames[-second:], reference[first:first + second])


def test_a_queue_of_only_bad_tracks_finishes_with_errors(tmp_path: Path) -> None:
    items = [QueueItem(f"bad{n}", lambda: BytesSource(b"\x00" * 1000, "zeros")) for n in range(2)]
    engine, _, recorder = start_engine(tmp_path / "out.wav")
    engine.set_queue(items)
    engine.play()
    assert recorder.finished.wait(TIMEOUT_S)
    engine.close()
    assert [event.index for event in recorder.of_type(PlaybackError)] == [0, 1]  # type: ignore[attr-defined]
    assert engine.state == "stopped"


def test_pause_and_resume_fade_and_lose_no_sample(album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    reference = as_float(tracks.signal)
    engine, sink, recorder = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_queue(tracks.items())
    engine.play()
    paused_at = 50_003
    assert sink.advance(paused_at) == paused_at
    engine.pause()
    ramp = sink.advance(10 * 44100)
    assert ramp == ramp_frames(44100)
    assert sink.advance(1000) == 0
    position = engine.position()
    assert sum(tracks.lengths[:position.index]) + position.frames == paused_at + ramp
    engine.resume()
    rest = sink.advance(len(reference))
    engine.close()
    frames, _ = read_wav(tmp_path / "out.wav")
    assert paused_at + ramp + rest == len(reference) == len(frames)
    assert np.array_equal(frames[:paused_at], reference[:paused_at])
    fade_out = frames[paused_at:paused_at + ramp] / np.where(reference[paused_at:paused_at + ramp] == 0, 1,
                                                            reference[paused_at:paused_at + ramp])
    assert np.all(np.diff(fade_out[:, 0]) < 0) and fade_out[-1, 0] < 0.01
    resumed_at = paused_at + 2 * ramp
    assert np.array_equal(frames[resumed_at:], reference[resumed_at:])
    assert [e.state for e in recorder.of_type(StateChanged)][:3] == ["playing", "paused", "playing"]  # type: ignore[attr-defined]


def _playing_10_000_frames_in(album: Album, out: Path) -> tuple[npt.NDArray[np.float32], Engine, RenderSink]:
    """The album's reference signal, and an engine on a manual render sink that has played its first 10,000 frames."""
    engine, sink, _ = start_engine(out, manual=True)
    engine.set_queue(album.items())
    engine.play()
    sink.advance(10_000)
    return as_float(album.signal), engine, sink


def test_seek_continues_from_the_exact_frame(album: Callable[..., Album], tmp_path: Path) -> None:
    reference, engine, sink = _playing_10_000_frames_in(album("flac"), tmp_path / "out.wav")
    target_s = 0.6
    target = round(target_s * 44100)
    engine.seek(target_s)
    ramp = ramp_frames(44100)
    sink.advance(ramp + 2 * ramp + 5000)
    position = engine.position()
    engine.close()
    frames, _ = read_wav(tmp_path / "out.wav")
    assert position.index == 0 and position.frames == target + 2 * ramp + 5000
    after = frames[10_000 + ramp:]
    assert np.array_equal(after[ramp:ramp + 5000], reference[target + ramp:target + ramp + 5000])
    assert np.abs(after[0]).max() <= np.abs(reference[target]).max() / ramp * 1.01 + 1e-6


@pytest.mark.parametrize("codec", ["opus", "mp3", "aac"])
def test_seek_in_lossy_tracks_lands_on_the_exact_frame(
        codec: str, album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album(codec)
    reference = as_float(tracks.signal)
    engine, sink, _ = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_queue(tracks.items(), start_index=2)
    engine.play()
    sink.advance(1000)
    target = round(0.9 * tracks.rate)
    engine.seek(target / tracks.rate)
    sink.advance(30_000)
    engine.close()
    frames, _ = read_wav(tmp_path / "out.wav")
    ramp = ramp_frames(tracks.rate)
    resumed = frames[1000 + ramp:]
    track_start = sum(tracks.lengths[:2])
    assert best_lag(resumed, reference[track_start + target:], 2048) == 0


def test_next_and_previous_move_between_tracks(album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    engine, sink, recorder = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_queue(tracks.items())
    engine.play()
    sink.advance(20_000)
    engine.next()
    sink.advance(5_000)
    assert engine.position().index == 1
    engine.previous()  # less than 3 s into track 1: back to track 0
    sink.advance(5_000)
    assert engine.position().index == 0
    sink.advance(44100 * 3 - 5_000)
    engine.next()
    sink.advance(44100 * 3)  # past 3 s of track 1 (it is shorter): playback has moved to track 2
    engine.close()
    started = [event.index for event in recorder.of_type(TrackStarted)]  # type: ignore[attr-defined]
    assert started[:3] == [0, 1, 0]


def test_previous_after_three_seconds_restarts_the_track(tmp_path: Path) -> None:
    path = encode(make_signal(44100, 44100 * 5), 44100, tmp_path / "long.flac", "flac")
    engine, sink, _ = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_queue([QueueItem("a", lambda: FileSource(path)), QueueItem("b", lambda: FileSource(path))], 1)
    engine.play()
    sink.advance(int(44100 * 3.5))
    engine.previous()
    sink.advance(1000)
    position = engine.position()
    engine.close()
    assert (position.index, position.key) == (1, "b") and position.frames < 44100


def test_volume_change_is_ramped_and_applied(album: Callable[..., Album], tmp_path: Path) -> None:
    reference, engine, sink = _playing_10_000_frames_in(album("flac"), tmp_path / "out.wav")
    engine.set_volume(0.5)
    sink.advance(20_000)
    engine.close()
    frames, _ = read_wav(tmp_path / "out.wav")
    steps = np.abs(np.diff(frames[9_000:11_000], axis=0)).max()
    assert steps <= np.abs(np.diff(reference[9_000:11_000], axis=0)).max() + 1e-6
    later = slice(12_000, 30_000)
    assert np.allclose(frames[later], reference[later] * np.float32(0.5), atol=1e-7)


def test_a_mono_flac_renders_bit_exact_on_both_channels(tmp_path: Path) -> None:
    mono = make_signal(44100, 44100)[:, 0].copy()
    path = encode(mono, 44100, tmp_path / "mono.flac", "flac", layout="mono")
    frames, _, _ = render([QueueItem("mono", lambda: FileSource(path))], tmp_path / "out.wav")
    assert np.array_equal(frames, np.repeat(as_float(mono).reshape(-1, 1), 2, axis=1))


def test_normalisation_reaches_the_target_gain_without_clipping(tmp_path: Path) -> None:
    loud = np.clip(make_signal(44100, 44100) * 3, -32768, 32767).astype(np.int16)
    path = encode(loud, 44100, tmp_path / "loud.flac", "flac")
    quiet_path = encode((make_signal(44100, 44100) // 8).astype(np.int16), 44100, tmp_path / "quiet.flac", "flac")
    items = [
        QueueItem("loud", lambda: FileSource(path), loudness_lufs=-5.0, peak_dbfs=0.0),
        QueueItem("quiet", lambda: FileSource(quiet_path), loudness_lufs=-30.0, peak_dbfs=None),
    ]
    engine, _, recorder = start_engine(tmp_path / "out.wav")
    engine.set_normalisation(True)
    engine.set_queue(items)
    engine.play()
    assert recorder.finished.wait(TIMEOUT_S)
    engine.close()
    frames, _ = read_wav(tmp_path / "out.wav")
    ceiling = 10 ** (-1 / 20)
    assert np.abs(frames).max() <= ceiling + 1e-6
    loud_part = frames[4410:40_000] / np.where(loud[4410:40_000] == 0, 1, loud[4410:40_000] / 32768)
    assert np.median(loud_part) == pytest.approx(10 ** (-9 / 20), rel=0.01)


def test_counters_report_frames_played(album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    engine, _, recorder = start_engine(tmp_path / "out.wav")
    engine.set_queue(tracks.items())
    engine.play()
    assert recorder.finished.wait(TIMEOUT_S)
    engine.close()
    assert engine.frames_played == len(tracks.signal)
    assert engine.underruns == 0


def test_play_can_start_part_way_into_the_first_track(album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    engine, sink, recorder = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_queue(tracks.items())
    engine.play(start_s=0.5)
    while not recorder.finished.is_set():
        sink.advance(4096)
    engine.close()
    frames, _ = read_wav(tmp_path / "out.wav")
    expected = as_float(tracks.signal)[round(0.5 * tracks.rate):]
    assert_faded_in(frames, expected, tracks.rate)  # starting mid-track fades in, so there is no click


def test_the_first_sound_heard_in_real_time_fades_in_and_an_offline_render_starts_bit_exact(
        album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    reference = as_float(tracks.signal)
    offline, _, _ = render(tracks.items(), tmp_path / "offline.wav")
    np.testing.assert_array_equal(offline, reference)
    sink = RenderSink(tmp_path / "heard.wav", speed=4.0)  # heard like a device
    recorder = Recorder()
    engine = Engine(sink, recorder)
    engine.set_queue(tracks.items())
    engine.play()
    assert recorder.finished.wait(TIMEOUT_S), recorder.events
    engine.close()
    heard, _ = read_wav(tmp_path / "heard.wav")
    kept = np.ones(len(heard), dtype=bool)
    for start, frames in sink.silences:  # blocks a loaded machine left short: silence, not the track's
        kept[start:start + frames] = False
    assert np.abs(reference[0]).max() > 0.1  # without the fade, the first frame would be a step
    assert_faded_in(heard[kept], reference, tracks.rate)


def test_play_straight_after_stop_plays_the_queue_again(album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    engine, sink, recorder = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_queue(tracks.items())
    engine.play()
    assert sink.advance(20_000) == 20_000
    engine.stop()
    engine.play()  # before the worker has faded out for the stop: the play comes after it and must hold
    while engine.frames_played < 40_000 and not recorder.finished.is_set():
        sink.advance(4096)
    assert engine.state == "playing"
    while not recorder.finished.is_set():
        sink.advance(4096)
    engine.close()
    frames, _ = read_wav(tmp_path / "out.wav")
    reference = as_float(tracks.signal)
    replayed = len(reference) - ramp_frames(tracks.rate)  # the second play fades in from silence
    assert np.array_equal(frames[-replayed:], reference[-replayed:])


class FlakySink(RenderSink):
    """A manual render sink whose health check raises its first few times, as a bug in a sink would."""

    def __init__(self, out: Path, faults: int) -> None:
        super().__init__(out, None, "float32", manual=True)
        self.faults = faults

    def failure(self) -> str | None:
        if self.faults > 0:
            self.faults -= 1
            raise RuntimeError("a bug in the sink's health check")
        return super().failure()


def test_a_failing_event_round_does_not_end_the_events_of_later_ones(album: Callable[..., Album],
                                                                      tmp_path: Path) -> None:
    tracks = album("flac")
    recorder = Recorder()
    sink = FlakySink(tmp_path / "out.wav", faults=3)
    engine = Engine(sink, recorder)
    recorder.engine = engine
    engine.set_queue(tracks.items())
    engine.play()
    deadline = time.monotonic() + TIMEOUT_S
    while sink.faults > 0 and time.monotonic() < deadline:  # nothing plays until every faulty round has run
        time.sleep(0.005)
    assert sink.faults == 0
    while not recorder.finished.is_set() and time.monotonic() < deadline:
        sink.advance(4096)
    assert recorder.finished.is_set(), f"the queue did not finish; events: {recorder.events}"
    engine.close()
    assert [e.index for e in recorder.events if isinstance(e, TrackStarted)] == list(range(len(tracks.items())))
