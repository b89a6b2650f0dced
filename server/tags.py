"""Read the descriptive tags of an audio file with PyAV, with sane fall-backs for missing ones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import av
import av.error

from server.exceptions import IngestError

UNKNOWN_ARTIST = "Unknown Artist"
UNKNOWN_ALBUM = "Unknown Album"
_TRUE_WORDS = {"1", "true", "yes"}


@dataclass(frozen=True)
class TrackTags:
    """What a file says about itself; numbers default to 1, dates to None."""

    title: str
    artist: str
    album: str
    album_artist: str
    track_no: int
    disc_no: int
    release_time: str | None  # ISO date
    genre: str | None
    gapless: bool  # the album's tracks flow into each other (iTunes "pgap" / GAPLESS_PLAYBACK)


def read_tags(path: Path) -> TrackTags:
    """Read container and audio stream tags of ``path`` (keys compared case-insensitively)."""
    try:
        with av.open(str(path)) as container:
            tags = {key.lower(): value for key, value in container.metadata.items()}
            if container.streams.audio:
                for key, value in container.streams.audio[0].metadata.items():
                    tags.setdefault(key.lower(), value)
    except av.error.FFmpegError as exc:
        raise IngestError(path, f"not a readable audio file ({exc.strerror or exc})") from exc
    artist = _text(tags, "artist") or _text(tags, "album_artist") or UNKNOWN_ARTIST
    return TrackTags(
        title=_text(tags, "title") or path.stem,
        artist=artist,
        album=_text(tags, "album") or UNKNOWN_ALBUM,
        album_artist=_text(tags, "album_artist") or _text(tags, "albumartist") or artist,
        track_no=_leading_number(tags.get("track") or tags.get("tracknumber")),
        disc_no=_leading_number(tags.get("disc") or tags.get("discnumber")),
        release_time=iso_date(tags.get("date") or tags.get("year") or tags.get("originaldate")),
        genre=_text(tags, "genre") or None,
        gapless=(tags.get("gapless_playback") or tags.get("itunpgap") or "").strip().lower() in _TRUE_WORDS,
    )


def iso_date(value: str | None) -> str | None:
    """Normalise "1999", "1999-05" or "1999-05-04T..." to an ISO date; None when there is no year."""
    if not value:
        return None
    match = re.match(r"\s*(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", value)
    if match is None:
        return None
    year, month, day = match.group(1), match.group(2) or "1", match.group(3) or "1"
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        month, day = "1", "1"
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _text(tags: dict[str, str], key: str) -> str:
    return (tags.get(key) or "").strip()


def _leading_number(value: str | None) -> int:
    """The N of "N" or "N/M"; 1 when absent or not a positive number."""
    match = re.match(r"\s*(\d+)", value or "")
    number = int(match.group(1)) if match else 0
    return number if number > 0 else 1
