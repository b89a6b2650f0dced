"""`python -m player render`: the same pipeline from the command line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from player.wav import read_wav
from tests.helpers.audio_fixtures import Album

ROOT = Path(__file__).resolve().parents[2]


def _render(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "player", "render", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_render_writes_the_album_gapless_in_16_bit(album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("flac")
    out = tmp_path / "album.wav"
    result = _render("--out", str(out), "--format", "pcm16", *map(str, tracks.paths))
    assert result.returncode == 0, result.stderr
    frames, rate = read_wav(out)
    assert rate == 44100
    assert np.array_equal(np.round(frames * 32768).astype(np.int16), tracks.signal)


def test_render_at_a_given_rate_and_skips_what_it_cannot_play(
        album: Callable[..., Album], tmp_path: Path) -> None:
    tracks = album("opus")
    junk = tmp_path / "junk.opus"
    junk.write_bytes(b"not audio at all" * 64)
    out = tmp_path / "album.wav"
    result = _render("--out", str(out), "--rate", "44100", str(tracks.paths[0]), str(junk), str(tracks.paths[1]))
    assert result.returncode == 0, result.stderr
    assert "junk.opus" in result.stderr
    frames, rate = read_wav(out)
    assert rate == 44100
    expected = (tracks.lengths[0] + tracks.lengths[1]) * 44100 / 48000
    assert abs(len(frames) - expected) <= 1
