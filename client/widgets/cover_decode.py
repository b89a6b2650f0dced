"""A cover's untrusted bytes decoded on a worker by FFmpeg (PyAV), which lets go of the GIL where Qt's decoders hold
it (~15 ms of a frozen UI thread per 1,200 px JPEG); only JPEG and PNG, never a header claiming > MAX_COVER_PIXELS.
"""

from __future__ import annotations

import io

import av
import imagesize
from PySide6.QtGui import QImage

MAX_COVER_PIXELS = 25_000_000  # 5,000 x 5,000: far past any real cover, ~100 MB decoded at worst
_FORMATS = {b"\xff\xd8\xff": "jpeg_pipe", b"\x89PNG\r\n\x1a\n": "png_pipe"}
_MAX_LOWRES = 3  # FFmpeg's JPEG decoder scales by 1/2, 1/4 or 1/8 while it decodes


class UndecodableCover(ValueError):
    """The server sent bytes for a cover that are not a JPEG or PNG image of a sensible size."""


def decode_cover(data: bytes, source_px: int) -> QImage:
    """``data`` as an image whose shorter side is at most ``source_px`` (scaled down, aspect kept); raises
    UndecodableCover when it is not a JPEG or PNG, claims too many pixels, or does not decode."""
    demuxer = next((name for magic, name in _FORMATS.items() if data.startswith(magic)), None)
    if demuxer is None:
        raise UndecodableCover(f"{len(data)} bytes that are neither a JPEG nor a PNG image")
    width, height = imagesize.get(io.BytesIO(data))
    if width <= 0 or height <= 0 or width * height > MAX_COVER_PIXELS:
        raise UndecodableCover(f"an image header that claims {width} x {height} pixels")
    lowres = _lowres(min(width, height), source_px) if demuxer == "jpeg_pipe" else 0
    try:
        with av.open(io.BytesIO(data), mode="r", format=demuxer) as container:
            stream = container.streams.video[0]
            stream.codec_context.options = {"max_pixels": str(MAX_COVER_PIXELS), "lowres": str(lowres)}
            frame = next(container.decode(stream))
            scale = min(1.0, source_px / min(frame.width, frame.height))
            rgba = frame.reformat(width=max(1, round(frame.width * scale)), height=max(1, round(frame.height * scale)),
                                  format="rgba", interpolation="AREA")
    except (av.FFmpegError, StopIteration, IndexError, ValueError) as exc:
        raise UndecodableCover(f"an image that does not decode ({exc})") from None
    plane = rgba.planes[0]
    return QImage(bytes(plane), rgba.width, rgba.height, plane.line_size, QImage.Format.Format_RGBA8888).copy()


def _lowres(shorter_px: int, source_px: int) -> int:
    """The most FFmpeg may shrink a JPEG while decoding it and still leave its shorter side at least ``source_px``."""
    level = 0
    while level < _MAX_LOWRES and shorter_px >> (level + 1) >= source_px:
        level += 1
    return level
