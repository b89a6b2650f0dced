"""A streaming WAV writer for stereo float32 frames, stored as IEEE float32 or 16-bit PCM.
(The stdlib `wave` module writes integer PCM only.)"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import numpy.typing as npt

Subtype = Literal["float32", "pcm16"]
_FORMAT_PCM = 1
_FORMAT_IEEE_FLOAT = 3


class WavWriter:
    """Appends frames to `path`; the header's sizes are filled in on `close`."""

    def __init__(self, path: str | os.PathLike[str], rate: int, channels: int, subtype: Subtype) -> None:
        if subtype not in ("float32", "pcm16"):
            raise ValueError(f"unknown WAV subtype {subtype!r}: use 'float32' or 'pcm16'")
        self.path = Path(path)
        self.rate = rate
        self.channels = channels
        self.subtype: Subtype = subtype
        self.frames_written = 0
        self._file: BinaryIO = open(self.path, "wb")  # noqa: SIM115 - stays open across writes until close()
        self._write_header()

    def write(self, frames: npt.NDArray[np.float32]) -> None:
        if self.subtype == "float32":
            data = np.ascontiguousarray(frames, dtype="<f4")
        else:
            data = np.clip(np.round(frames * 32768.0), -32768, 32767).astype("<i2")
        self._file.write(data.tobytes())
        self.frames_written += len(frames)

    def sync(self) -> None:
        """Make the file on disk a complete WAV of what was written so far."""
        if not self._file.closed:
            self._write_header()
            self._file.flush()

    def close(self) -> None:
        self.sync()
        self._file.close()

    def _write_header(self) -> None:
        float_format = self.subtype == "float32"
        sample_bytes = 4 if float_format else 2
        data_bytes = self.frames_written * self.channels * sample_bytes
        fmt = struct.pack(
            "<HHIIHH", _FORMAT_IEEE_FLOAT if float_format else _FORMAT_PCM, self.channels, self.rate,
            self.rate * self.channels * sample_bytes, self.channels * sample_bytes, 8 * sample_bytes,
        )
        chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
        if float_format:
            chunks += b"fact" + struct.pack("<II", 4, self.frames_written)
        header = b"WAVE" + chunks + b"data" + struct.pack("<I", data_bytes)
        position = self._file.tell()
        self._file.seek(0)
        self._file.write(b"RIFF" + struct.pack("<I", len(header) + data_bytes) + header)
        self._file.seek(max(position, self._file.tell()))


def read_wav(path: str | os.PathLike[str]) -> tuple[npt.NDArray[np.float32], int]:
    """Frames (as float32) and rate of a WAV this module wrote."""
    raw = Path(path).read_bytes()
    format_tag, channels, rate = struct.unpack_from("<HHI", raw, 20)
    data_at = raw.index(b"data") + 8
    if format_tag == _FORMAT_IEEE_FLOAT:
        samples = np.frombuffer(raw, "<f4", offset=data_at).astype(np.float32)
    else:
        samples = np.frombuffer(raw, "<i2", offset=data_at).astype(np.float32) / np.float32(32768.0)
    return samples.reshape(-1, channels), int(rate)
