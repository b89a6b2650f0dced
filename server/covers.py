"""Album cover art: found at ingest (a file's attached picture, or cover.jpg & co. beside it), kept as DATA/covers.

Only real JPEG or PNG images within the size limit are stored; a bad or missing cover is logged, never fatal.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import av.error

from durable import write_atomically
from server.catalog import Catalog

_log = logging.getLogger(__name__)
MAX_COVER_BYTES = 8 * 1024 * 1024
FOLDER_COVER_NAMES = ("cover.jpg", "cover.jpeg", "folder.jpg", "folder.jpeg", "cover.png", "folder.png")
_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
_SUFFIX = {"image/jpeg": "jpg", "image/png": "png"}


@dataclass(frozen=True)
class Cover:
    """A validated cover image and where it came from (for the log)."""

    data: bytes
    mime: str
    origin: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class InvalidCover(ValueError):
    """Bytes offered as a cover are not a JPEG or PNG of acceptable size."""


def validated(data: bytes, origin: str) -> Cover:
    """``data`` as a Cover; InvalidCover when it is empty, too large or not a JPEG/PNG by its magic bytes."""
    if not data:
        raise InvalidCover(f"{origin}: the picture is empty")
    if len(data) > MAX_COVER_BYTES:
        raise InvalidCover(f"{origin}: the picture is {len(data)} bytes, over the {MAX_COVER_BYTES}-byte limit")
    for magic, mime in _MAGIC.items():
        if data.startswith(magic):
            return Cover(data, mime, origin)
    raise InvalidCover(f"{origin}: the picture is neither a JPEG nor a PNG")


def cover_path(data_dir: Path, album_id: int, mime: str) -> Path:
    return data_dir / "covers" / f"{album_id}.{_SUFFIX[mime]}"


def attach_cover(catalog: Catalog, data_dir: Path, album_id: int, source: Path) -> None:
    """Give ``album_id`` the cover of ``source`` unless it has one already; problems are logged, not raised."""
    if catalog.album_cover(album_id) is not None:
        return
    for data, origin in _candidates(source):
        try:
            cover = validated(data, origin)
        except InvalidCover as exc:
            _log.warning("ignoring a cover for album %d: %s", album_id, exc)
            continue
        try:
            write_atomically(cover_path(data_dir, album_id, cover.mime), cover.data)
        except OSError as exc:
            _log.warning("could not store the cover of album %d from %s: %s", album_id, cover.origin, exc)
            return
        with catalog.transaction():
            catalog.set_album_cover(album_id, cover.mime, cover.sha256, len(cover.data))
        return


def _candidates(source: Path) -> Iterator[tuple[bytes, str]]:
    """Pictures offered for ``source``'s album, best first: its attached picture, then folder images."""
    embedded = _attached_picture(source)
    if embedded is not None:
        yield embedded, f"{source} (attached picture)"
    for name in FOLDER_COVER_NAMES:
        path = source.parent / name
        try:
            if not path.is_file():
                continue
            if path.stat().st_size > MAX_COVER_BYTES:
                _log.warning("ignoring %s: over the %d-byte cover limit", path, MAX_COVER_BYTES)
                continue
            data = path.read_bytes()
        except OSError as exc:
            _log.warning("cannot read the cover %s: %s", path, exc)
            continue
        yield data, str(path)


def _attached_picture(source: Path) -> bytes | None:
    """The bytes of the file's attached picture (its video stream marked attached_pic), if it has one."""
    try:
        with av.open(str(source)) as container:
            for stream in container.streams.video:
                if stream.disposition & av.stream.Disposition.attached_pic:
                    for packet in container.demux(stream):
                        if packet.size:
                            return bytes(packet)
    except av.error.FFmpegError as exc:
        _log.warning("cannot read the attached picture of %s: %s", source, exc)
    return None
