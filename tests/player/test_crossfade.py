"""Crossfades in the engine: the overlap's length and level, gapless albums left gapless, and skips, seeks,
pauses and queue edits during a fade (real FLAC files, rendered)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from player import FileSource, QueueItem, TrackStarted
from player.wav import read_wav
from tests.helpers.audio_fixtures import SPLITS, encode, make_signal
from tests.helpers.offline_harness import wait_until
from tests.helpers.render_harness import TIMEOUT_S, as_float, start_engine

RATE = 44100
TRACK_S = 13.0
FADE_S = 6.0
RAMP_FRAMES = int(np.ceil(0.008 * RATE))


def noise_track(folder: Path, name: str, seed: int, level: float = 0.1) -> tuple[QueueItem, npt.NDArray[np.float32]]:
    """A FLAC of steady white noise at RMS `level`, its queue item (with its length) and its samples."""
    frames = int(TRACK_S * RATE)
    noise = np.random.default_rng(seed).standard_normal((frames, 2)) * level
    pcm = np.round(np.clip(noise, -1, 1) * 32767).astype(np.int16)
    path = encode(pcm, RATE, folder / f"{name}.flac", "flac")
    return QueueItem(name, lambda: FileSource(path), frames=frames), as_float(pcm)


def rms_db(frames: npt.NDArray[np.float32]) -> float:
    return float(10 * np.log10(np.mean(frames.astype(np.float64) ** 2)))


def crossfaded(items: list[QueueItem], out: Path) -> tuple[npt.NDArray[np.float32], list[TrackStarted]]:
    engine, _, recorder = start_engine(out)
    engine.set_crossfade(FADE_S)
    engine.set_queue(items)
    engine.play()
    assert recorder.finished.wait(TIMEOUT_S), recorder.events
    engine.close()
    frames, rate = read_wav(out)
    assert rate == RATE
    return frames, recorder.of_type(TrackStarted)  # type: ignore[return-value]


def test_a_six_second_crossfade_overlaps_six_seconds_at_level_power(tmp_path: Path) -> None:
    (a, a_pcm), (b, b_pcm) = noise_track(tmp_path, "a", 1), noise_track(tmp_path, "b", 2)
    frames, started = crossfaded([a, b], tmp_path / "out.wav")
    fade, start = int(FADE_S * RATE), len(a_pcm) - int(FADE_S * RATE)
    assert len(frames) == len(a_pcm) + len(b_pcm) - fade
    assert np.array_equal(frames[:start], a_pcm[:start])
    assert np.array_equal(frames[start + fade:], b_pcm[fade:])
    phase = (np.arange(fade) + 0.5) / fade * (np.pi / 2)
    expected = a_pcm[start:] * np.cos(phase)[:, None] + b_pcm[:fade] * np.sin(phase)[:, None]
    assert np.allclose(frames[start:start + fade], expected, atol=1e-5)
    own = (rms_db(a_pcm) + rms_db(b_pcm)) / 2
    window = RATE // 10
    levels = [rms_db(frames[at:at + window]) for at in range(start, start + fade - window + 1, window)]
    assert max(abs(level - own) for level in levels) < 1.0, levels
    assert [event.key for event in started] == ["a", "b"]


def test_the_next_track_starts_when_its_fade_begins(tmp_path: Path) -> None:
    (a, a_pcm), (b, _) = noise_track(tmp_path, "a", 1), noise_track(tmp_path, "b", 2)
    engine, sink, recorder = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_crossfade(FADE_S)
    engine.set_queue([a, b])
    engine.play()
    start = len(a_pcm) - int(FADE_S * RATE)
    assert sink.advance(start + 100) == start + 100
    engine.close()
    assert [p.key for p in recorder.positions_at_start] == ["a", "b"]
    assert (recorder.positions_at_start[1].index, recorder.positions_at_start[1].frames) == (1, 0)
    assert sink.frames_written == start + 100


def album_items(folder: Path, joined: bool) -> tuple[list[QueueItem], npt.NDArray[np.float32]]:
    """One continuous signal cut into three FLAC tracks that know their length; `joined`: played as an album."""
    signal = make_signal(RATE, int(9 * RATE))
    cuts = [round(fraction * len(signal)) for fraction in SPLITS]
    items = []
    for number, (start, end) in enumerate(itertools.pairwise(cuts)):
        path = encode(signal[start:end], RATE, folder / f"{number}.flac", "flac")
        items.append(QueueItem(str(number), lambda path=path: FileSource(path), frames=end - start,
                               joins_previous=joined and number > 0))
    return items, as_float(signal)


def test_an_album_in_order_renders_bit_exact_with_crossfade_on(tmp_path: Path) -> None:
    items, reference = album_items(tmp_path, joined=True)
    frames, started = crossfaded(items, tmp_path / "album.wav")
    assert np.array_equal(frames, reference)
    assert len(started) == 3
    loose, _ = album_items(tmp_path, joined=False)
    faded, _ = crossfaded(loose, tmp_path / "loose.wav")
    assert len(faded) < len(reference)  # the same tracks not joined do fade: the flag is what keeps them gapless


def test_a_skip_during_a_fade_starts_the_following_track_at_once_without_a_fade(tmp_path: Path) -> None:
    (a, a_pcm), (b, _), (c, c_pcm) = (noise_track(tmp_path, name, seed) for seed, name in enumerate("abc", 1))
    engine, sink, recorder = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_crossfade(FADE_S)
    engine.set_queue([a, b, c])
    engine.play()
    skipped_at = len(a_pcm) - int(FADE_S * RATE) + 2 * RATE
    assert sink.advance(skipped_at) == skipped_at
    engine.next()  # b started when its fade began, so Next goes on to c
    sink.advance(RATE)
    engine.close()
    frames, _ = read_wav(tmp_path / "out.wav")
    after = skipped_at + RAMP_FRAMES  # the usual ramp out, then c from its start, ramped in, at full level
    assert np.array_equal(frames[after + RAMP_FRAMES:after + RATE // 2], c_pcm[RAMP_FRAMES:RATE // 2])
    assert [event.key for event in recorder.of_type(TrackStarted)] == ["a", "b", "c"]  # type: ignore[attr-defined]


def test_a_seek_into_the_last_seconds_fades_over_what_is_left(tmp_path: Path) -> None:
    (a, a_pcm), (b, b_pcm) = noise_track(tmp_path, "a", 1), noise_track(tmp_path, "b", 2)
    engine, sink, recorder = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_crossfade(FADE_S)
    engine.set_queue([a, b])
    engine.play()
    assert sink.advance(RATE) == RATE
    left = 2 * RATE
    engine.seek((len(a_pcm) - left) / RATE)
    sink.advance(len(b_pcm) + RATE)
    engine.close()
    frames, _ = read_wav(tmp_path / "out.wav")
    at = RATE + RAMP_FRAMES  # after the seek's ramp out, the fade starts at once (ramped in as any seek)
    assert len(frames) == at + len(b_pcm)
    phase = (np.arange(left) + 0.5) / left * (np.pi / 2)
    expected = a_pcm[-left:] * np.cos(phase)[:, None] + b_pcm[:left] * np.sin(phase)[:, None]
    assert np.allclose(frames[at + RAMP_FRAMES:at + left], expected[RAMP_FRAMES:], atol=1e-5)
    assert np.array_equal(frames[at + left:], b_pcm[left:])
    assert [event.key for event in recorder.of_type(TrackStarted)] == ["a", "b"]  # type: ignore[attr-defined]


def test_a_pause_during_a_fade_loses_nothing_of_it(tmp_path: Path) -> None:
    (a, a_pcm), (b, _) = noise_track(tmp_path, "a", 1), noise_track(tmp_path, "b", 2)
    reference, _ = crossfaded([a, b], tmp_path / "reference.wav")
    engine, sink, _ = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_crossfade(FADE_S)
    engine.set_queue([a, b])
    engine.play()
    paused_at = len(a_pcm) - int(FADE_S * RATE) + 3 * RATE
    assert sink.advance(paused_at) == paused_at
    engine.pause()
    assert sink.advance(RATE) == RAMP_FRAMES
    engine.resume()
    sink.advance(len(reference))
    engine.close()
    frames, _ = read_wav(tmp_path / "out.wav")
    assert len(frames) == len(reference)
    assert np.array_equal(frames[:paused_at], reference[:paused_at])
    assert np.array_equal(frames[paused_at + 2 * RAMP_FRAMES:], reference[paused_at + 2 * RAMP_FRAMES:])


@pytest.mark.parametrize("mixed", [False, True], ids=["before-the-fade-is-decoded", "after-the-fade-was-mixed"])
def test_a_queue_edit_before_the_fade_is_heard_fades_into_the_new_next_track(tmp_path: Path, mixed: bool) -> None:
    (a, a_pcm), (b, _), (c, _) = (noise_track(tmp_path, name, seed) for seed, name in enumerate("abc", 1))
    reference, _ = crossfaded([a, c], tmp_path / "reference.wav")
    engine, sink, recorder = start_engine(tmp_path / "out.wav", manual=True)
    engine.set_crossfade(FADE_S)
    engine.set_queue([a, b])
    engine.play()
    fade_start = len(a_pcm) - int(FADE_S * RATE)
    edit_at = fade_start - RATE // 2 if mixed else 2 * RATE
    assert sink.advance(edit_at) == edit_at
    if mixed:  # the ring holds a second of audio: the fade's first half second is mixed in it already
        wait_until(lambda: engine.buffered_frames >= RATE, "the ring to fill past the fade's start")
    assert engine.replace_upcoming(0, [c])
    assert engine.sync()
    sink.advance(len(reference))
    engine.close()
    frames, _ = read_wav(tmp_path / "out.wav")
    assert np.array_equal(frames, reference)
    assert [event.key for event in recorder.of_type(TrackStarted)] == ["a", "c"]  # type: ignore[attr-defined]
