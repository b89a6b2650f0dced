"""Ingest of real files from real encoders: tags, qualities, exact lengths, bit-exact lossless, bad files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import av
import numpy as np
import pytest
import sqlalchemy as sa

from server.catalog import Catalog
from server.database import DATABASE_ENV
from server.ingest import ingest
from server.origin import origin_path, transform
from server.transcode import QUALITIES
from server.upgrades import pending
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.server_sources import (
    SOURCE_FORMATS,
    SOURCE_RATE,
    Ingested,
    Sources,
    stereo_tone,
    tags_for,
    write_audio,
)

pytestmark = ON_BOTH_ENGINES


@pytest.fixture(scope="module")
def ingested(ingested_on_engine: Ingested) -> Ingested:
    """The batch ingested on the module's engine (the session's ``ingested`` is SQLite's)."""
    return ingested_on_engine


def _catalog_rows(data_dir: Path, sql: str, params: list[object] | None = None,
                  database: sa.URL | None = None) -> list[dict[str, object]]:
    """Rows of the catalog of ``data_dir`` (in ``database``, else the test's own)."""
    catalog = Catalog.open(data_dir, database)
    try:
        return catalog.query(sql, params or [])
    finally:
        catalog.close()


def _plaintext(data_dir: Path, file_row: dict[str, object]) -> bytes:
    ciphertext = origin_path(data_dir, int(str(file_row["id"]))).read_bytes()
    return transform(ciphertext, bytes.fromhex(str(file_row["key"])), bytes.fromhex(str(file_row["nonce"])))


def _decode_s16(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data), "r") as container:
        blocks = [frame.to_ndarray() for frame in container.decode(container.streams.audio[0])]
    assert all(block.dtype == np.int16 for block in blocks)
    return np.concatenate(blocks, axis=1).reshape(-1, 2)


def _track_for(ingested: Ingested, sources: Sources, suffix: str) -> dict[str, object]:
    track_id = next(t.track_id for t in ingested.report.tracks if t.path == sources.paths[suffix])
    return _catalog_rows(ingested.data_dir, "SELECT * FROM tracks WHERE id = ?", [track_id], ingested.database)[0]


@pytest.mark.parametrize("suffix", list(SOURCE_FORMATS))
def test_tags_of_every_input_format_reach_the_catalog(ingested: Ingested, sources: Sources, suffix: str) -> None:
    track = _track_for(ingested, sources, suffix)
    album, artist = _catalog_rows(
        ingested.data_dir, "SELECT albums.title, artists.name FROM albums JOIN artists ON artists.id = "
        "albums.artist_id WHERE albums.id = ?", [track["album_id"]], ingested.database)[0].values()
    assert track["title"] == tags_for(suffix)["title"]
    assert track["track_no"] == list(SOURCE_FORMATS).index(suffix) + 1
    assert track["release_time"] == "2004-06-01"
    assert (album, artist) == ("Formats", "The Testers")


@pytest.mark.parametrize("suffix", list(SOURCE_FORMATS))
def test_every_track_gets_four_qualities_and_low_stays_under_32_kbps(
        ingested: Ingested, sources: Sources, suffix: str) -> None:
    track = _track_for(ingested, sources, suffix)
    files = {row["quality"]: row for row in _catalog_rows(
        ingested.data_dir, "SELECT * FROM files WHERE track_id = ?", [track["id"]], ingested.database)}
    assert set(files) == {quality.name for quality in QUALITIES}
    low = files["low"]
    measured_bps = int(str(low["size_bytes"])) * 8 / (int(str(low["frames"])) / int(str(low["sample_rate"])))
    assert int(str(low["bitrate"])) <= 32_000
    assert measured_bps <= 32_000
    assert (files["high"]["codec"], files["high"]["container"], files["high"]["sample_rate"]) == ("opus", "ogg", 48000)
    assert (files["lossless"]["codec"], files["lossless"]["sample_rate"]) == ("flac", track["sample_rate"])


@pytest.mark.parametrize("suffix", list(SOURCE_FORMATS))
def test_recorded_frames_equal_the_decoded_length_of_every_output(
        ingested: Ingested, sources: Sources, suffix: str) -> None:
    track = _track_for(ingested, sources, suffix)
    for row in _catalog_rows(ingested.data_dir, "SELECT * FROM files WHERE track_id = ?", [track["id"]],
                             ingested.database):
        with av.open(io.BytesIO(_plaintext(ingested.data_dir, row)), "r") as container:
            decoded = sum(frame.samples for frame in container.decode(container.streams.audio[0]))
        assert decoded == row["frames"], row["quality"]
        expected = int(str(track["duration_samples"])) * int(str(row["sample_rate"])) / int(str(track["sample_rate"]))
        assert abs(decoded - expected) <= 1, row["quality"]


@pytest.mark.parametrize("suffix", list(SOURCE_FORMATS))
def test_track_length_is_the_source_length_without_encoder_delay_or_padding(
        ingested: Ingested, sources: Sources, suffix: str) -> None:
    track = _track_for(ingested, sources, suffix)
    native_rate = 48000 if suffix == "opus" else SOURCE_RATE
    assert track["sample_rate"] == native_rate
    assert track["duration_samples"] == sources.pcm16.shape[0] * native_rate // SOURCE_RATE


@pytest.mark.parametrize("suffix", ["wav", "flac"])
def test_lossless_output_decodes_bit_exact_to_the_16_bit_source(
        ingested: Ingested, sources: Sources, suffix: str) -> None:
    track = _track_for(ingested, sources, suffix)
    row = _catalog_rows(ingested.data_dir, "SELECT * FROM files WHERE track_id = ? AND quality = 'lossless'",
                        [track["id"]], ingested.database)[0]
    decoded = _decode_s16(_plaintext(ingested.data_dir, row))
    assert track["duration_samples"] == sources.pcm16.shape[0]
    np.testing.assert_array_equal(decoded, sources.pcm16)


def test_bad_files_are_reported_by_name_and_the_batch_goes_on(ingested: Ingested, sources: Sources) -> None:
    failed = {failure.path: failure for failure in ingested.report.failures}
    assert set(failed) == set(ingested.bad_paths)
    for path, failure in failed.items():
        assert str(path) in str(failure)
        assert failure.reason
    assert {track.path for track in ingested.report.tracks} == set(sources.paths.values())


def test_reingesting_the_same_file_does_not_duplicate_the_track(
        ingested: Ingested, sources: Sources, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _catalog_rows(ingested.data_dir, "SELECT COUNT(*) AS n FROM tracks", [], ingested.database)[0]["n"]
    if ingested.database.get_backend_name() == "postgresql":  # the ingest's own database, not the test's
        monkeypatch.setenv(DATABASE_ENV, ingested.database.render_as_string(hide_password=False))
    report = ingest(ingested.data_dir, [sources.paths["flac"]])
    after = _catalog_rows(ingested.data_dir, "SELECT COUNT(*) AS n FROM tracks", [], ingested.database)[0]["n"]
    assert report.ok and report.tracks[0].duplicate
    assert report.tracks[0].track_id == _track_for(ingested, sources, "flac")["id"]
    assert after == before


def test_a_data_dir_this_version_filled_has_no_upgrade_step_to_run(ingested: Ingested) -> None:
    catalog = Catalog.open(ingested.data_dir, ingested.database)
    try:
        assert pending(catalog) == []  # ingest filled in all that an upgrade step would
    finally:
        catalog.close()


def test_folders_are_searched_recursively_for_audio_only(tmp_path: Path) -> None:
    nested = tmp_path / "music" / "disc 1"
    nested.mkdir(parents=True)
    write_audio(nested / "a.wav", stereo_tone(0.5), {"title": "Deep", "album": "Nested"})
    (nested / "cover.txt").write_text("not audio")
    report = ingest(tmp_path / "data", [tmp_path / "music", tmp_path / "missing.flac"])
    assert [track.title for track in report.tracks] == ["Deep"]
    assert [failure.path.name for failure in report.failures] == ["missing.flac"]
    assert "no such file" in report.failures[0].reason


def test_missing_tags_fall_back_to_file_name_and_unknown_artist(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "Quiet Morning.wav", stereo_tone(0.5), {})
    report = ingest(tmp_path / "data", [path])
    track = _catalog_rows(tmp_path / "data", "SELECT tracks.title, artists.name AS artist FROM tracks JOIN "
                          "artists ON artists.id = tracks.artist_id WHERE tracks.id = ?", [report.tracks[0].track_id])
    assert track == [{"title": "Quiet Morning", "artist": "Unknown Artist"}]


def test_gapless_tag_marks_the_album_gapless_and_regions_are_recorded(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "set.flac", stereo_tone(0.5),
                       {"title": "Set", "album": "Live", "GAPLESS_PLAYBACK": "1"})
    ingest(tmp_path / "data", [path], regions=["SE", "NO"])
    albums = _catalog_rows(tmp_path / "data", "SELECT gapless FROM albums")
    tracks = _catalog_rows(tmp_path / "data", "SELECT regions FROM tracks")
    assert albums == [{"gapless": 1}]
    assert json.loads(str(tracks[0]["regions"])) == ["NO", "SE"]


def test_loudness_follows_the_level_of_the_source(tmp_path: Path) -> None:
    loud = write_audio(tmp_path / "loud.wav", stereo_tone(2.0, gain=0.5), {"title": "Loud"})
    quiet = write_audio(tmp_path / "quiet.wav", stereo_tone(2.0, gain=0.25), {"title": "Quiet"})
    ingest(tmp_path / "data", [loud, quiet])
    rows = {row["title"]: row for row in _catalog_rows(
        tmp_path / "data", "SELECT title, loudness_lufs, peak_dbfs FROM tracks")}
    lufs_gap = float(str(rows["Loud"]["loudness_lufs"])) - float(str(rows["Quiet"]["loudness_lufs"]))
    peak_gap = float(str(rows["Loud"]["peak_dbfs"])) - float(str(rows["Quiet"]["peak_dbfs"]))
    assert lufs_gap == pytest.approx(6.02, abs=0.1)
    assert peak_gap == pytest.approx(6.02, abs=0.1)
    assert -30 < float(str(rows["Loud"]["loudness_lufs"])) < 0


def test_mono_source_is_delivered_in_mono(tmp_path: Path) -> None:
    path = tmp_path / "mono.wav"
    samples = stereo_tone(1.0)[:, :1]
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=44100, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T), format="s16", layout="mono")
        frame.sample_rate = 44100
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    report = ingest(tmp_path / "data", [path])
    files = _catalog_rows(tmp_path / "data", "SELECT * FROM files WHERE track_id = ?", [report.tracks[0].track_id])
    assert {row["channels"] for row in files} == {1}
    lossless = next(row for row in files if row["quality"] == "lossless")
    with av.open(io.BytesIO(_plaintext(tmp_path / "data", lossless)), "r") as container:
        decoded = np.concatenate([f.to_ndarray() for f in container.decode(container.streams.audio[0])], axis=1)
    np.testing.assert_array_equal(decoded.reshape(-1), samples.reshape(-1))
