"""Synthesised demo cover art: a 512x512 PNG drawn with numpy from an album title's hash, stable across runs.

A gradient sky, a soft sun with rings and a horizon band, in three colours the title picks; never touches disk.
"""

from __future__ import annotations

import colorsys
import hashlib
import struct
import zlib

import numpy as np

COVER_PX = 512


def cover_png(title: str, size: int = COVER_PX) -> bytes:
    """A pleasant, deterministic ``size``x``size`` RGB PNG for the album called ``title``."""
    digest = hashlib.sha256(title.encode()).digest()
    base_hue = digest[0] / 255
    sky_top, sky_bottom, sun = (
        np.array(colorsys.hsv_to_rgb((base_hue + shift) % 1.0, saturation, value))
        for shift, saturation, value in ((0.0, 0.55 + digest[1] / 1020, 0.35 + digest[2] / 1275),
                                         (0.08 + digest[3] / 2550, 0.45 + digest[4] / 1020, 0.85),
                                         (0.5 + digest[5] / 2550, 0.35 + digest[6] / 1275, 0.98)))
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1)
    angle = digest[7] / 255 * np.pi / 2
    along = np.clip(x * np.sin(angle) * 0.5 + y * (1 - np.sin(angle) * 0.5), 0.0, 1.0)[..., None]
    image = sky_top * (1 - along) + sky_bottom * along
    centre_x, centre_y = 0.3 + digest[8] / 637, 0.3 + digest[9] / 850
    radius = 0.16 + digest[10] / 1700
    distance = np.hypot(x - centre_x, y - centre_y)
    disc = np.clip((radius - distance) * size / 3, 0.0, 1.0)[..., None]
    rings = (0.5 + 0.5 * np.cos(distance * (24 + digest[11] % 16) * np.pi)) * np.exp(-distance * 3)
    image = image * (1 - disc) + sun * disc + (sun - image) * (rings[..., None] * 0.18 * (1 - disc))
    horizon = 0.72 + digest[12] / 2550 + 0.03 * np.sin(x * (3 + digest[13] % 5) * np.pi)
    ground = np.clip((y - horizon) * size / 2, 0.0, 1.0)[..., None]
    image = image * (1 - ground) + sky_top * 0.45 * ground
    return _png(np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8))


def _png(rgb: np.ndarray) -> bytes:
    """Encode an (h, w, 3) uint8 array as a PNG (no filtering, zlib level 9)."""
    height, width, _ = rgb.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, width * 3)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
            + _chunk(b"IEND", b""))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
