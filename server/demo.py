"""Build the demo catalog: render server.synth's albums to tagged 16-bit FLAC beside a cover.png, ingest them for
real, add "demo"; optionally short sampler albums by more artists and synthetic listeners for recommendations
(demo_listeners).

Idempotent: albums already in the catalog are skipped and the demo user is created only when missing.
"""

from __future__ import annotations

import dataclasses
import random
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from server.auth import create_user
from server.catalog import Catalog
from server.exceptions import DemoError
from server.ingest import DEFAULT_REGIONS, ingest
from server.synth import DemoAlbum, DemoTrack, demo_albums
from server.synth.artwork import cover_png

DEMO_USER = "demo"
DEMO_PASSWORD = "demo"
DEMO_REGION = "GB"
SAMPLER_TRACKS = 3  # per sampler album: enough for two Discover Weekly picks per artist and a radio hop


@dataclass(frozen=True)
class _Job:
    label: str  # "[2/4]" or "[sampler 3/14]"
    index: int  # the album's place in server.synth's sequence
    seconds_per_track: float
    tracks: int | None  # keep only this many tracks (None: all)


@dataclass(frozen=True)
class _Outcome:
    artist: str
    title: str
    message: str


def build_demo(data_dir: Path, albums: int = 4, seconds_per_track: float = 90.0,
               progress: Callable[[str], None] = print, sampler_albums: int = 0, sampler_seconds: float = 8.0,
               listeners: int = 0) -> None:
    """Render ``albums`` demo albums of about ``seconds_per_track`` each into the catalog in ``data_dir``, then
    ``sampler_albums`` short ones by more artists and ``listeners`` synthetic listeners (with a trained model).

    The live set comes first (it stays the catalog's first album); every other album is rendered and ingested
    two at a time, in worker processes (one core each).
    """
    from server import demo_listeners

    jobs = [_Job(f"[{number}/{albums}]", number - 1, seconds_per_track, None) for number in range(1, albums + 1)]
    jobs += [_Job(f"[sampler {number}/{sampler_albums}]", albums + number - 1, sampler_seconds, SAMPLER_TRACKS)
             for number in range(1, sampler_albums + 1)]
    outcomes: list[_Outcome] = []
    for job in jobs[:1]:
        outcomes.append(_render_and_ingest(data_dir, job))
        progress(f"{job.label} {outcomes[-1].message}")
    with ProcessPoolExecutor(max_workers=2) as pool:
        for job, future in zip(jobs[1:], [pool.submit(_render_and_ingest, data_dir, job) for job in jobs[1:]],
                               strict=True):
            outcomes.append(future.result())
            progress(f"{job.label} {outcomes[-1].message}")
    _ensure_demo_user(data_dir)
    if listeners or sampler_albums:
        history = [(outcome.artist, outcome.title) for outcome in outcomes[:min(2, albums)]]
        demo_listeners.add_listeners(data_dir, DEMO_USER, listeners, history, progress)


def _render_and_ingest(data_dir: Path, job: _Job) -> _Outcome:
    album = next(demo_albums(job.index + 1, seconds_per_track=job.seconds_per_track, first=job.index))
    if job.tracks is not None:
        album = dataclasses.replace(album, tracks=album.tracks[:job.tracks])
    name = f"{album.artist} - {album.title}"
    if album_exists(data_dir, album):
        return _Outcome(album.artist, album.title, f"{name}: already in the catalog")
    ingest_album(data_dir, album)
    return _Outcome(album.artist, album.title,
                    f"{name}: {len(album.tracks)} tracks ingested{' (gapless)' if album.gapless else ''}")


def ingest_album(data_dir: Path, album: DemoAlbum) -> None:
    with tempfile.TemporaryDirectory(prefix="legato-demo-") as temp:
        (Path(temp) / "cover.png").write_bytes(cover_png(album.title))
        paths = [_write_flac(Path(temp), album, track) for track in album.tracks]
        report = ingest(data_dir, paths, regions=DEFAULT_REGIONS)
    if not report.ok:
        raise DemoError(f"the demo album {album.title!r} failed to ingest: "
                           + "; ".join(str(failure) for failure in report.failures))
    catalog = Catalog.open(data_dir)
    try:
        for ingested in report.tracks:
            catalog.set_popularity(ingested.track_id, _popularity(album, ingested.title))
    finally:
        catalog.close()


def _write_flac(folder: Path, album: DemoAlbum, track: DemoTrack) -> Path:
    path = folder / f"{track.disc_no:02d}-{track.track_no:02d}.flac"
    samples = np.round(np.clip(track.pcm, -1.0, 1.0) * 32767.0).astype("<i2")
    with av.open(str(path), "w", format="flac") as container:
        container.metadata.update({
            "TITLE": track.title, "ARTIST": album.artist, "ALBUM_ARTIST": album.artist, "ALBUM": album.title,
            "TRACKNUMBER": f"{track.track_no}/{len(album.tracks)}", "DISCNUMBER": str(track.disc_no),
            "DATE": str(album.year), "GENRE": album.genre, "GAPLESS_PLAYBACK": "1" if album.gapless else "0",
        })
        stream = container.add_stream("flac", rate=album.sample_rate, layout="stereo")
        stream.format = "s16"
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.reshape(1, -1)), format="s16",
                                           layout="stereo")
        frame.sample_rate = album.sample_rate
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _popularity(album: DemoAlbum, title: str) -> int:
    """A stable, plausible popularity: the album's base appeal plus some per-track spread."""
    base = random.Random(f"{album.artist}/{album.title}").randint(35, 80)
    spread = random.Random(f"{album.title}/{title}").randint(-25, 20)
    return max(0, min(100, base + spread))


def album_exists(data_dir: Path, album: DemoAlbum) -> bool:
    catalog = Catalog.open(data_dir)
    try:
        row = catalog.query_one(
            "SELECT COUNT(tracks.id) AS n FROM albums JOIN artists ON artists.id = albums.artist_id "
            "JOIN tracks ON tracks.album_id = albums.id WHERE artists.name = ? AND albums.title = ? "
            "AND EXISTS (SELECT 1 FROM covers WHERE covers.album_id = albums.id)",
            [album.artist, album.title])
    finally:
        catalog.close()
    return row is not None and int(row["n"]) >= len(album.tracks)


def _ensure_demo_user(data_dir: Path) -> None:
    catalog = Catalog.open(data_dir)
    try:
        if catalog.user_by_name(DEMO_USER) is None:
            create_user(catalog, DEMO_USER, DEMO_PASSWORD, DEMO_REGION)
    finally:
        catalog.close()
