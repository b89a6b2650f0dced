"""Shared helpers of the server tests: short tagged clips written by real encoders, and fixture records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import sqlalchemy as sa

from server.ingest import IngestReport
from tests.helpers.audio_fixtures import encode

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
    return encode(pcm16, rate, path, codec, container_format=container_format, sample_format=sample_format,
                  out_rate=48000 if codec == "libopus" else rate, tags=tags, bit_rate=None)


def tags_for(suffix: str) -> dict[str, str]:
    return {"title": f"Tone in {suffix.upper()}", "artist": "The Testers", "album": "Formats",
            "track": f"{list(SOURCE_FORMATS).index(suffix) + 1}/5", "date": "2004-06-01", "genre": "Test"}




@dataclass(frozen=True)
class Ingested:
    """A data dir holding the sources ingested, the ingest's report, the bad files of the batch, and the database
    its catalog is in (SQLite in the data dir, or PostgreSQL): what a test reads of the catalog is read there."""

    data_dir: Path
    report: IngestReport
    bad_paths: tuple[Path, ...]
    database: sa.URL


class RunningServer(Protocol):
    """What the tests use of tests/conftest.py's LiveServer."""

    url: str
    data_dir: Path
