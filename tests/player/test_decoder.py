"""The decoder alone: exact lengths per codec, AAC priming with and without an edit list,
sample-exact seek, clear errors for what is not audio, and bytes that stop arriving mid-track."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from player import BytesSource, DecodeError, Decoder, FileSource, SourceError, SourceUnavailable
from player.decoder import StreamInterrupted
from tests.helpers.audio_fixtures import Album, encode, make_signal
from tests.helpers.render_harness import as_float, best_lag


@pytest.mark.parametrize("codec", ["flac", "opus", "mp3", "aac"])
def test_each_track_decodes_to_its_exact_length(codec: str, album: Callable[..., Album]) -> None:
    tracks = album(codec)
    for item, length in zip(tracks.items(), tracks.lengths, strict=True):
        decoder = Decoder(item.open_source(), item.frames)
        assert decoder.sample_rate == tracks.rate
        assert len(decoder.read_all()) == length


def test_a_mono_flac_decodes_to_the_same_samples_on_both_channels(tmp_path: Path) -> None:
    mono = make_signal(44100, 30_000)[:, 0].copy()
    frames = Decoder(FileSource(encode(mono, 44100, tmp_path / "mono.flac", "flac", layout="mono"))).read_all()
    assert frames.shape == (len(mono), 2)
    assert np.array_equal(frames[:, 0], as_float(mono)) and np.array_equal(frames[:, 1], as_float(mono))


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


class CutOff:
    """A file whose middle, from `cut` to its last 64 KiB, is unavailable while `down`: the network
    went away with only the opening and the tail (which demuxers probe) at hand, as in the RAM tier."""

    def __init__(self, path: Path, cut: int) -> None:
        self._file = FileSource(path)
        self._cut = cut
        self._tail = path.stat().st_size - 65536
        self.down = True

    def size(self) -> int | None:
        return self._file.size()

    def read_at(self, offset: int, size: int) -> bytes:
        if self.down and offset < self._tail and offset + size > self._cut:
            raise SourceUnavailable(f"bytes past {self._cut} are not here yet")
        return self._file.read_at(offset, size)


@pytest.mark.parametrize("codec", ["flac", "opus", "mp3", "aac"])
def test_a_track_cut_off_mid_way_continues_in_a_new_decoder_at_the_exact_frame(
        codec: str, album: Callable[..., Album]) -> None:
    tracks = album(codec, seconds=30.0)
    item = tracks.items()[2]
    expected = Decoder(item.open_source(), item.frames).read_all()
    source = CutOff(tracks.paths[2], tracks.paths[2].stat().st_size // 3)
    decoder = Decoder(source, item.frames)
    heard = []
    with pytest.raises(StreamInterrupted, match="not here yet"):
        while (chunk := decoder.read()) is not None:
            heard.append(chunk)
    decoder.close()
    stalled_at = sum(len(chunk) for chunk in heard)
    assert 0 < stalled_at < len(expected)
    source.down = False
    resumed = Decoder(source, item.frames)
    resumed.seek(stalled_at)
    joined = np.concatenate([*heard, resumed.read_all()])
    assert len(joined) == len(expected)
    if codec != "aac":  # what the server serves (FLAC, Opus) and MP3 come back bit-exact
        np.testing.assert_array_equal(joined, expected)


def test_a_source_that_fails_for_good_is_a_plain_decode_error(album: Callable[..., Album]) -> None:
    path = album("flac", seconds=30.0).paths[0]

    class Broken(FileSource):
        def read_at(self, offset: int, size: int) -> bytes:
            if offset > 65536:
                raise SourceError("the disk holding the file failed")
            return super().read_at(offset, size)

    with pytest.raises(DecodeError, match="the disk holding the file failed") as raised:
        Decoder(Broken(path)).read_all()
    assert not isinstance(raised.value, StreamInterrupted)
