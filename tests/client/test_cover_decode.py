"""Decoding a cover's untrusted bytes (client/widgets/cover_decode.py): JPEG and PNG scaled to the view, anything
else, a header claiming too many pixels, or a mutated file refused with UndecodableCover, never another error."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QImage

from client.widgets.cover_decode import MAX_COVER_PIXELS, UndecodableCover, decode_cover
from tests.helpers.pictures import encoded, looks_like, quartered_picture

VIEW_PX = 200
SMALL = {image_format: encoded(quartered_picture(64, 48), image_format) for image_format in ("PNG", "JPEG")}


def _png(width: int, height: int, rows: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
@pytest.mark.parametrize(("width", "height"), [(1500, 1200), (1200, 4000), (2400, 2400)])
def test_a_cover_is_scaled_to_the_view_keeping_its_picture(image_format: str, width: int, height: int) -> None:
    picture = quartered_picture(width, height)
    decoded = decode_cover(encoded(picture, image_format), VIEW_PX)
    assert min(decoded.width(), decoded.height()) == VIEW_PX
    assert abs(decoded.width() / decoded.height() - width / height) < 0.01
    assert looks_like(decoded, picture)


def test_a_cover_smaller_than_the_view_is_kept_as_it_is() -> None:
    decoded = decode_cover(SMALL["PNG"], VIEW_PX)
    assert (decoded.width(), decoded.height()) == (64, 48)
    assert decoded.pixelColor(5, 5) == quartered_picture(64, 48).pixelColor(5, 5)


def test_a_header_claiming_more_pixels_than_any_cover_is_refused_before_decoding() -> None:
    side = 12_000  # 144 MP in a file of ~140 KB: all zeros compress well
    bomb = _png(side, side, bytes(side + 1) * side)
    assert side * side > MAX_COVER_PIXELS
    with pytest.raises(UndecodableCover, match="claims 12000 x 12000 pixels"):
        decode_cover(bomb, VIEW_PX)


@pytest.mark.parametrize("data", [b"", b"GIF89a\x01\x00\x01\x00", b"<svg></svg>", SMALL["PNG"][:40],
                                  SMALL["JPEG"][:200], b"\xff\xd8\xff" + bytes(64)])
def test_what_is_not_a_whole_jpeg_or_png_is_refused(data: bytes) -> None:
    with pytest.raises(UndecodableCover):
        decode_cover(data, VIEW_PX)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(image_format=st.sampled_from(["PNG", "JPEG"]),
       edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.integers(0, 10_000))
def test_a_mutated_cover_is_decoded_within_bounds_or_refused(image_format: str, edits: list[tuple[int, int]],
                                                            cut: int) -> None:
    data = bytearray(SMALL[image_format])
    for at, value in edits:
        data[at % len(data)] = value
    try:
        decoded = decode_cover(bytes(data[:max(8, len(data) - cut % len(data))]), VIEW_PX)
    except UndecodableCover:
        return
    assert isinstance(decoded, QImage) and not decoded.isNull()
    assert decoded.width() * decoded.height() <= MAX_COVER_PIXELS
