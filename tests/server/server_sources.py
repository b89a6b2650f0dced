"""Shared helpers of the server tests: short tagged clips written by real encoders, and fixture records."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol, cast

import av
import numpy as np
from av.audio.stream import AudioStream

from server.ingest import IngestReport

SOURCE_RATE = 44100
SOURCE_SECONDS = 3.0
# (suffix, container format, codec, sample format)
SOURCE_FORMATS = {
    "wav": ("wav", "pcm_s16le", "s16"),
    "flac": ("flac", "flac", "s16"),
    "mp3": ("mp3", "libmp3lame", "s16p"),
    "opus": ("ogg", "libopus", "s16"),
    "m4a": ("ipod", "aac", "fltp"),
}


@dataclass(frozen=True)
class Sources:
    """Source clips by suffix and the 16-bit PCM (frames x 2) they were all made from."""

    paths: dict[str, Path]
    pcm16: np.ndarray


def stereo_tone(seconds: float, rate: int = SOURCE_RATE, gain: float = 0.4) -> np.ndarray:
    """A 16-bit stereo chord with a little noise, so encoders have something real to chew on."""
    t = np.arange(round(seconds * rate)) / rate
    rng = np.random.default_rng(7)
    left = np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 554.37 * t) + 0.05 * rng.standard_normal(t.size)
    right = np.sin(2 * np.pi * 659.25 * t) + 0.05 * rng.standard_normal(t.size)
    stereo = np.stack([left, right], axis=1) / 1.6 * gain
    return np.round(stereo * 32767).astype(np.int16)


def write_audio(path: Path, pcm16: np.ndarray, tags: dict[str, str], rate: int = SOURCE_RATE) -> Path:
    """Encode ``pcm16`` (frames x 2) into ``path`` with the encoder its suffix calls for."""
    container_format, codec, sample_format = SOURCE_FORMATS[path.suffix.lstrip(".")]
    out_rate = 48000 if codec == "libopus" else rate
    with av.open(str(path), "w", format=container_format) as container:
        container.metadata.update(tags)
        stream = cast(AudioStream, container.add_stream(codec, rate=out_rate, layout="stereo"))
        stream.format = sample_format
        resampler = av.AudioResampler(format=sample_format, layout="stereo", rate=out_rate)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm16.reshape(1, -1)), format="s16",
                                           layout="stereo")
        frame.sample_rate = rate
        # Timestamps let the muxers record gapless info (MP4 edit list, Ogg granules), as real encoders do.
        frame.pts = 0
        frame.time_base = Fraction(1, rate)
        for resampled in resampler.resample(frame) + resampler.resample(None):
            container.mux(stream.encode(resampled))
        container.mux(stream.encode(None))
    return path


def tags_for(suffix: str) -> dict[str, str]:
    return {"title": f"Tone in {suffix.upper()}", "artist": "The Testers", "album": "Formats",
            "track": f"{list(SOURCE_FORMATS).index(suffix) + 1}/5", "date": "2004-06-01", "genre": "Test"}




@dataclass(frozen=True)
class Ingested:
    data_dir: Path
    report: IngestReport
    bad_paths: tuple[Path, ...]


class RunningServer(Protocol):
    """What the tests use of tests/conftest.py's LiveServer."""

    url: str
    data_dir: Path
