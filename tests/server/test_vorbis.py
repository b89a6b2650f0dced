"""Ogg Vorbis through ingest has libvorbis's length and samples: real files nobody here made (Debian's
sound-theme-freedesktop), and oggenc files of odd lengths, each held against oggdec's own decode."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
import sqlalchemy as sa

from server.catalog import Catalog
from server.database import database_url
from server.ingest import ingest
from server.origin import load
from tests.helpers.postgres import ON_BOTH_ENGINES, database_of_its_own

FREEDESKTOP = Path("/usr/share/sounds/freedesktop/stereo")
_ODD_LENGTHS = (1, 127, 1000, 44101)
# oggdec rounds libvorbis's floats to 16 bits, the lossless copy is the same floats rounded to 16 bits by FFmpeg:
# the two may round one sample apart, never more.
_LSB_TOLERANCE = 1

pytestmark = [ON_BOTH_ENGINES, pytest.mark.skipif(
    shutil.which("oggdec") is None or shutil.which("oggenc") is None or not FREEDESKTOP.is_dir(),
    reason="needs vorbis-tools and sound-theme-freedesktop (apt-get install vorbis-tools sound-theme-freedesktop)")]


@dataclass(frozen=True)
class Vorbis:
    """A data dir holding the Vorbis files ingested, each file's track id, and the database of its catalog."""

    data_dir: Path
    track_ids: dict[Path, int]
    database: sa.URL


def _oggdec(path: Path, channels: int) -> np.ndarray:
    """libvorbis's decode of ``path`` as 16-bit PCM, frames x channels."""
    raw = subprocess.run(["oggdec", "--quiet", "--raw", "--output", "-", str(path)],
                         capture_output=True, check=True, timeout=60).stdout
    return np.frombuffer(raw, "<i2").reshape(-1, channels)


def _channels(path: Path) -> int:
    with av.open(str(path)) as container:
        return int(container.streams.audio[0].codec_context.channels)


def _oggenc(folder: Path, frames: int, channels: int) -> Path:
    wav = folder / f"odd-{frames}-{channels}.wav"
    t = np.arange(frames)[:, None]
    pcm = np.round(np.sin(t * 0.031 * np.arange(1, channels + 1)) * 12000).astype("<i2")
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(pcm.tobytes())
    ogg = wav.with_suffix(".ogg")
    subprocess.run(["oggenc", "--quiet", "--title", f"Odd {frames}x{channels}", "--album", "Odd lengths",
                    "-o", str(ogg), str(wav)], check=True, timeout=60)
    return ogg


@pytest.fixture(scope="module")
def vorbis(module_database: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Vorbis:
    folder = tmp_path_factory.mktemp("oggenc")
    made = [_oggenc(folder, frames, channels) for frames in _ODD_LENGTHS for channels in (1, 2)]
    data_dir = tmp_path_factory.mktemp("vorbis-data")
    with database_of_its_own(module_database, request):
        report = ingest(data_dir, [*sorted(FREEDESKTOP.glob("*.oga")), *made])
        assert report.ok, report.failures
        return Vorbis(data_dir, {track.path: track.track_id for track in report.tracks}, database_url(data_dir))


def _files(data_dir: Path, track_id: int, database: sa.URL | None = None) -> tuple[
        dict[str, object], list[dict[str, object]]]:
    """The track's row and its files' (from ``database``, else the test's own)."""
    catalog = Catalog.open(data_dir, database)
    try:
        track = catalog.query("SELECT duration_samples, sample_rate FROM tracks WHERE id = ?", [track_id])[0]
        return track, catalog.query("SELECT * FROM files WHERE track_id = ?", [track_id])
    finally:
        catalog.close()


def _lossless_pcm(data_dir: Path, file: dict[str, object]) -> np.ndarray:
    flac = load(data_dir, int(str(file["id"])), bytes.fromhex(str(file["key"])), bytes.fromhex(str(file["nonce"])))
    with av.open(io.BytesIO(flac), "r") as container:
        blocks = [frame.to_ndarray() for frame in container.decode(container.streams.audio[0])]
    return np.concatenate(blocks, axis=1).reshape(-1, int(str(file["channels"])))


def _sources() -> list[Path]:
    return sorted(FREEDESKTOP.glob("*.oga")) if FREEDESKTOP.is_dir() else []


def _check_against_oggdec(vorbis: Vorbis, path: Path) -> None:
    expected = _oggdec(path, _channels(path))
    track, files = _files(vorbis.data_dir, vorbis.track_ids[path], vorbis.database)
    assert track["duration_samples"] == expected.shape[0]
    rate = int(str(track["sample_rate"]))
    for file in files:
        # Every quality carries the same length in time: exact at the source rate, within a frame at 48 kHz.
        assert int(str(file["frames"])) == pytest.approx(expected.shape[0] * int(str(file["sample_rate"])) / rate,
                                                         abs=1), file["quality"]
    lossless = next(file for file in files if file["quality"] == "lossless")
    decoded = _lossless_pcm(vorbis.data_dir, lossless)
    assert decoded.shape == expected.shape
    assert int(np.max(np.abs(decoded.astype(np.int32) - expected.astype(np.int32)))) <= _LSB_TOLERANCE


@pytest.mark.parametrize("path", _sources(), ids=lambda path: path.name)
def test_every_freedesktop_sound_ingests_with_oggdec_length_and_samples(vorbis: Vorbis, path: Path) -> None:
    _check_against_oggdec(vorbis, path)


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("frames", _ODD_LENGTHS)
def test_oggenc_files_of_odd_lengths_ingest_exactly(vorbis: Vorbis, frames: int, channels: int) -> None:
    path = next(p for p in vorbis.track_ids if p.name == f"odd-{frames}-{channels}.ogg")
    assert _oggdec(path, channels).shape[0] == frames
    _check_against_oggdec(vorbis, path)


def test_re_ingesting_a_vorbis_source_corrects_what_an_older_ingest_got_wrong(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dropped, padded, right = (FREEDESKTOP / f"{name}.oga" for name in
                              ("dialog-information", "phone-outgoing-calling", "bell"))
    data_dir = tmp_path / "data"
    with monkeypatch.context() as old_ingest:
        # What the ingest before libvorbis did: FFmpeg's decode, at FFmpeg's length.
        old_ingest.setattr("server.transcode._is_vorbis", lambda container, stream: False)
        first = ingest(data_dir, [dropped, padded, right])
    ids = {track.path: track.track_id for track in first.tracks}
    assert _files(data_dir, ids[dropped])[0]["duration_samples"] != _oggdec(dropped, 2).shape[0]
    old_files = {path: {int(str(f["id"])) for f in _files(data_dir, ids[path])[1]} for path in ids}

    again = ingest(data_dir, [dropped, padded, right])
    outcomes = {track.path: track for track in again.tracks}
    assert again.ok, again.failures
    assert {path: (t.track_id, t.corrected, t.duplicate) for path, t in outcomes.items()} == {
        dropped: (ids[dropped], True, False), padded: (ids[padded], True, False), right: (ids[right], False, True)}
    vorbis = Vorbis(data_dir, ids, database_url(data_dir))
    for path in (dropped, padded, right):
        _check_against_oggdec(vorbis, path)
    assert {int(str(f["id"])) for f in _files(data_dir, ids[right])[1]} == old_files[right]
    for path in (dropped, padded):
        assert not old_files[path] & {int(str(f["id"])) for f in _files(data_dir, ids[path])[1]}
        assert not any((data_dir / "origin" / str(file_id)).exists() for file_id in old_files[path])
