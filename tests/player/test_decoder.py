"""The decoder alone: exact lengths per codec, AAC priming with and without an edit list,
sample-exact seek, and clear errors for what is not audio."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from audio_fixtures import Album, encode, make_signal
from render_harness import as_float, best_lag

from player import BytesSource, DecodeError, Decoder, FileSource


@pytest.mark.parametrize("codec", ["flac", "opus", "mp3", "aac"])
def test_each_track_decodes_to_its_exact_length(codec: str, album: Callable[..., Album]) -> None:
    tracks = album(codec)
    for item, length in zip(tracks.items(), tracks.lengths, strict=True):
        decoder = Decoder(item.open_source(), item.frames)
        assert decoder.sample_rate == tracks.rate
        assert len(decoder.read_all()) == length


def test_aac_priming_is_trimmed_when_the_mp4_has_no_edit_list(tmp_path: Path) -> None:
    signal = make_signal(44100, 40_000)
    path = encode(signal, 44100, tmp_path / "naive.m4a", "aac", timestamps=False)
    frames = Decoder(FileSource(path), frames=len(signal)).read_all()
    assert len(frames) == len(signal)
    assert best_lag(frames, as_float(signal), 4096) == 0


@pytest.mark.parametrize("target", [1, 4607, 4608, 20_000, 39_990])
def test_flac_seek_is_sample_exact(target: int, tmp_path: Path) -> None:
    signal = make_signal(44100, 40_000)
    path = encode(signal, 44100, tmp_path / "t.flac", "flac")
    decoder = Decoder(FileSource(path))
    decoder.read()
    decoder.seek(target)
    assert np.array_equal(decoder.read_all(), as_float(signal[target:]))


@pytest.mark.parametrize("codec", ["opus", "mp3", "aac"])
def test_lossy_seek_lands_on_the_exact_frame(codec: str, album: Callable[..., Album]) -> None:
    tracks = album(codec)
    item = tracks.items()[2]
    start = sum(tracks.lengths[:2])
    decoder = Decoder(item.open_source(), item.frames)
    target = 30_011
    decoder.seek(target)
    frames = decoder.read_all()
    assert len(frames) == tracks.lengths[2] - target
    assert best_lag(frames, as_float(tracks.signal[start + target:]), 1024) == 0


@pytest.mark.parametrize("data", [b"", b"\x00" * 4096, b"hello, this is not audio\n" * 100])
def test_what_is_not_audio_is_a_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        Decoder(BytesSource(data), name="junk")
