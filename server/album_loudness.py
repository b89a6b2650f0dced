"""An album's loudness as a whole (BS.1770 over its tracks' audio in album order, one rate) and its sample peak,
measured from the lossless copies in the origin and recorded on the album. It never re-encodes anything.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import av
import av.error

from server import origin
from server.catalog import Catalog
from server.exceptions import AlbumLoudnessError
from server.loudness import StreamingLoudness


@dataclass(frozen=True)
class AlbumLoudness:
    """The album's integrated loudness and the highest sample peak of any of its tracks."""

    loudness_lufs: float
    peak_dbfs: float


def measure_album(catalog: Catalog, data_dir: Path, album_id: int) -> AlbumLoudness | None:
    """Measure the album from its tracks' lossless files, one track in memory at a time; None without tracks.

    Tracks at another rate than the album's highest are resampled to it, so every block is measured alike.
    """
    tracks = catalog.album_lossless_files(album_id)
    if not tracks:
        return None
    rate = max(int(track["sample_rate"]) for track in tracks)
    meter = StreamingLoudness(rate)
    for track in tracks:
        try:
            flac = origin.load(data_dir, int(track["file_id"]), bytes.fromhex(track["key"]),
                               bytes.fromhex(track["nonce"]))
            _feed(meter, flac, rate)
        except (OSError, av.error.FFmpegError) as exc:
            raise AlbumLoudnessError(
                f"album {album_id}: the lossless copy of track {track['track_id']} (origin file "
                f"{track['file_id']}) cannot be read ({exc}); re-ingest that track's source") from exc
    return AlbumLoudness(meter.integrated_lufs(), max(float(track["peak_dbfs"]) for track in tracks))


def record_album_loudness(catalog: Catalog, data_dir: Path, album_id: int) -> AlbumLoudness | None:
    """Measure the album and store the figures on it (after every change of its tracks)."""
    figures = measure_album(catalog, data_dir, album_id)
    if figures is not None:
        catalog.set_album_loudness(album_id, figures.loudness_lufs, figures.peak_dbfs)
    return figures


def _feed(meter: StreamingLoudness, encoded: bytes, rate: int) -> None:
    with av.open(io.BytesIO(encoded), "r") as container:
        stream = container.streams.audio[0]
        layout = "mono" if stream.codec_context.channels == 1 else "stereo"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        for frame in container.decode(stream):
            for resampled in resampler.resample(frame):
                meter.feed(resampled.to_ndarray().T)
        for resampled in resampler.resample(None):
            meter.feed(resampled.to_ndarray().T)
