"""Ingest source audio files: read tags, measure loudness, transcode, encrypt into the origin, catalog, cover;
then measure each album that gained a track as a whole.

One bad file never stops a batch: its IngestError is recorded in the report and the next file goes on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from server import covers, origin, upgrades, waveform
from server.album_loudness import record_album_loudness
from server.catalog import Catalog, NewFile, NewTrack
from server.exceptions import AlbumLoudnessError, IngestError
from server.loudness import integrated_loudness_lufs, sample_peak_dbfs
from server.recs import audio_catalog
from server.tags import read_tags
from server.transcode import EncodedFile, decode, transcode, vorbis_frames

_log = logging.getLogger(__name__)
DEFAULT_REGIONS: tuple[str, ...] = ("GB", "US", "DE", "FR", "SE")
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".aif",
                            ".aiff", ".wma", ".wv", ".ape"})


@dataclass(frozen=True)
class IngestedTrack:
    """A source file that is in the catalog; ``duplicate`` when it was already there before this run."""

    path: Path
    track_id: int
    title: str
    duplicate: bool
    corrected: bool = False  # it was in the catalog with a wrong length, and its audio was redone


@dataclass(frozen=True)
class IngestReport:
    tracks: tuple[IngestedTrack, ...]
    failures: tuple[IngestError, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def ingest(data_dir: Path, paths: Iterable[Path], *, regions: Sequence[str] = DEFAULT_REGIONS,
           progress: Callable[[str], None] | None = None) -> IngestReport:
    """Ingest every file in ``paths`` (folders are searched recursively for audio files) into ``data_dir``."""
    catalog = Catalog.open(data_dir)
    tracks: list[IngestedTrack] = []
    failures: list[IngestError] = []
    try:
        upgrades.record_current_if_empty(catalog)
        for path in _expand(paths, failures):
            outcome = _ingest_or_fail(catalog, data_dir, path, regions)
            if isinstance(outcome, IngestError):
                failures.append(outcome)
                message = f"FAILED {outcome}"
            else:
                tracks.append(outcome)
                state = ("already in the catalog" if outcome.duplicate
                         else f"length corrected (track {outcome.track_id})" if outcome.corrected
                         else f"ingested as track {outcome.track_id}")
                message = f"{path}: {state} ({outcome.title})"
            if progress:
                progress(message)
        failures.extend(_measure_albums(catalog, data_dir, [track for track in tracks if not track.duplicate]))
    finally:
        catalog.close()
    return IngestReport(tuple(tracks), tuple(failures))


def _measure_albums(catalog: Catalog, data_dir: Path, added: Sequence[IngestedTrack]) -> list[IngestError]:
    """Measure once each album that gained a track in this batch (its whole audio, old tracks and new)."""
    first_added: dict[int, Path] = {}
    for track in added:
        first_added.setdefault(catalog.track_album_id(track.track_id), track.path)
    failures: list[IngestError] = []
    for album_id, path in first_added.items():
        try:
            record_album_loudness(catalog, data_dir, album_id)
        except AlbumLoudnessError as exc:
            _log.error("%s", exc)
            failures.append(IngestError(path, f"its album's loudness could not be measured: {exc}"))
    return failures


def _ingest_or_fail(catalog: Catalog, data_dir: Path, path: Path,
                    regions: Sequence[str]) -> IngestedTrack | IngestError:
    try:
        return ingest_file(catalog, data_dir, path, regions)
    except IngestError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - one file's surprise must not end the batch; it is logged
        _log.exception("unexpected error ingesting %s", path)
        return IngestError(path, f"unexpected error ({exc!r}); see the server log")


def ingest_file(catalog: Catalog, data_dir: Path, path: Path, regions: Sequence[str]) -> IngestedTrack:
    """Ingest one file; raises IngestError naming ``path`` when it cannot be."""
    source_sha256 = _sha256_of(path)
    existing = catalog.track_id_for_source(source_sha256)
    tags = read_tags(path)
    if existing is not None:
        if vorbis_frames(path) not in (None, catalog.track_length(existing)):
            return _redo_audio(catalog, data_dir, existing, path, tags.title)
        covers.attach_cover(catalog, data_dir, catalog.track_album_id(existing), path)
        return IngestedTrack(path, existing, tags.title, duplicate=True)
    audio = decode(path)
    outputs = transcode(audio, path)
    track = NewTrack(
        title=tags.title, artist=tags.artist, album=tags.album, album_artist=tags.album_artist,
        disc_no=tags.disc_no, track_no=tags.track_no, duration_samples=audio.frames,
        sample_rate=audio.sample_rate, popularity=0, regions=regions, release_time=tags.release_time,
        genre=tags.genre, gapless=tags.gapless, loudness_lufs=integrated_loudness_lufs(audio.pcm, audio.sample_rate),
        peak_dbfs=sample_peak_dbfs(audio.pcm), source_sha256=source_sha256,
    )
    track_id = _write(catalog, data_dir, path, outputs, lambda: catalog.insert_track(track))
    audio_catalog.store(catalog, track_id, audio.pcm, audio.sample_rate)
    waveform.store(catalog, track_id, audio.pcm)
    covers.attach_cover(catalog, data_dir, catalog.track_album_id(track_id), path)
    return IngestedTrack(path, track_id, tags.title, duplicate=False)


def _redo_audio(catalog: Catalog, data_dir: Path, track_id: int, path: Path, title: str) -> IngestedTrack:
    """Decode and transcode again a source an older ingest got the length of wrong (Ogg Vorbis through FFmpeg);
    the track keeps its id, its files are replaced by new ones (new ids, so no cache mistakes old bytes for new)."""
    audio = decode(path)
    outputs = transcode(audio, path)
    stale: list[int] = []

    def replace() -> int:
        stale.extend(catalog.replace_track_audio(track_id, audio.frames, audio.sample_rate,
                                                 integrated_loudness_lufs(audio.pcm, audio.sample_rate),
                                                 sample_peak_dbfs(audio.pcm)))
        return track_id

    _write(catalog, data_dir, path, outputs, replace)
    audio_catalog.store(catalog, track_id, audio.pcm, audio.sample_rate)
    waveform.store(catalog, track_id, audio.pcm)
    for file_id in stale:
        origin.origin_path(data_dir, file_id).unlink(missing_ok=True)
    return IngestedTrack(path, track_id, title, duplicate=False, corrected=True)


def _write(catalog: Catalog, data_dir: Path, path: Path, outputs: Sequence[EncodedFile],
           track_row: Callable[[], int]) -> int:
    """Write the track's row (``track_row`` does, giving its id) and every output in one transaction."""
    try:
        with catalog.transaction():
            track_id = track_row()
            for output in outputs:
                _store_output(catalog, data_dir, track_id, output)
    except OSError as exc:
        raise IngestError(path, f"could not write the encrypted origin copy ({exc})") from exc
    return track_id


def _store_output(catalog: Catalog, data_dir: Path, track_id: int, output: EncodedFile) -> None:
    encrypted = origin.encrypt(output.data)
    file_id = catalog.insert_file(track_id, NewFile(
        quality=output.quality.name, codec=output.quality.codec, container=output.quality.container,
        mime=output.quality.mime, bitrate=output.bitrate, sample_rate=output.sample_rate,
        channels=output.channels, frames=output.frames, size_bytes=len(encrypted.ciphertext),
        chunk_size=origin.CHUNK_SIZE_BYTES, chunks=encrypted.chunk_sha256,
        content_sha256=encrypted.content_sha256, key=encrypted.key, nonce=encrypted.nonce,
    ))
    origin.store(data_dir, file_id, encrypted.ciphertext)


def _expand(paths: Iterable[Path], failures: list[IngestError]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*")
                              if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith("."))
        elif path.is_file():
            yield path
        else:
            failures.append(IngestError(path, "no such file or folder"))


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise IngestError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    return digest.hexdigest()
