"""The frames between the server and its update workers: a JSON header plus raw blobs, never a pickle.

A frame is ``>II`` (body length, header length), the header as UTF-8 JSON, then the blobs back to back;
the header lists their lengths under ``"blobs"``. A frame that breaks any of this raises FrameError.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from dataclasses import dataclass
from typing import Any

MAX_FRAME_BYTES = 256 * 1024 * 1024
_PREFIX = struct.Struct(">II")
_CHUNK_BYTES = 1024 * 1024


class FrameError(Exception):
    """The other side sent something that is not a frame, or went away mid-frame."""


class FrameTimeout(FrameError):
    """The other side did not finish reading or writing a frame before the deadline."""


@dataclass(frozen=True)
class Frame:
    header: dict[str, Any]
    blobs: tuple[bytes, ...] = ()


def encode(frame: Frame) -> bytes:
    header = json.dumps({**frame.header, "blobs": [len(blob) for blob in frame.blobs]}).encode()
    body_length = len(header) + sum(len(blob) for blob in frame.blobs)
    if body_length > MAX_FRAME_BYTES:
        raise FrameError(f"a frame of {body_length} bytes exceeds the limit of {MAX_FRAME_BYTES}")
    return b"".join([_PREFIX.pack(body_length, len(header)), header, *frame.blobs])


def decode(body: bytes, header_length: int) -> Frame:
    try:
        header = json.loads(body[:header_length])
    except ValueError as exc:
        raise FrameError(f"a frame header is not JSON ({exc})") from None
    lengths = header.get("blobs") if isinstance(header, dict) else None
    if not isinstance(lengths, list) or not all(isinstance(n, int) and n >= 0 for n in lengths):
        raise FrameError("a frame header must be an object listing its blob lengths")
    if header_length + sum(lengths) != len(body):
        raise FrameError("a frame's blob lengths do not add up to its size")
    blobs, offset = [], header_length
    for length in lengths:
        blobs.append(body[offset:offset + length])
        offset += length
    return Frame(header, tuple(blobs))


def read_frame(fd: int, deadline: float | None = None) -> Frame:
    """The next frame on ``fd``; EOFError when the other side closed before a frame began."""
    prefix = _read_exactly(fd, _PREFIX.size, deadline, at_start=True)
    body_length, header_length = _PREFIX.unpack(prefix)
    if body_length > MAX_FRAME_BYTES or header_length > body_length:
        raise FrameError(f"a frame claims {body_length} bytes, beyond the limit of {MAX_FRAME_BYTES}")
    return decode(_read_exactly(fd, body_length, deadline), header_length)


def write_frame(fd: int, frame: Frame, deadline: float | None = None) -> None:
    data = memoryview(encode(frame))
    while data:
        _wait(fd, deadline, writing=True)
        try:
            written = os.write(fd, data[:_CHUNK_BYTES])
        except BlockingIOError:
            continue
        except OSError as exc:
            raise FrameError(f"the other side stopped reading ({exc.strerror})") from None
        data = data[written:]


def _read_exactly(fd: int, count: int, deadline: float | None, at_start: bool = False) -> bytes:
    parts, missing = [], count
    while missing:
        _wait(fd, deadline, writing=False)
        try:
            chunk = os.read(fd, min(missing, _CHUNK_BYTES))
        except BlockingIOError:
            continue
        except OSError as exc:
            raise FrameError(f"the other side went away ({exc.strerror})") from None
        if not chunk:
            if at_start and missing == count:
                raise EOFError("the other side closed the channel")
            raise FrameError("the other side closed the channel in the middle of a frame")
        parts.append(chunk)
        missing -= len(chunk)
    return b"".join(parts)


def _wait(fd: int, deadline: float | None, writing: bool) -> None:
    """Block until ``fd`` is ready; a ``None`` deadline waits for ever (the worker side, fd blocking)."""
    if deadline is None:
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FrameTimeout("the other side took too long")
    poller = select.poll()  # not select.select: a busy server's descriptors pass FD_SETSIZE
    poller.register(fd, select.POLLOUT if writing else select.POLLIN)
    if not poller.poll(remaining * 1000):
        raise FrameTimeout("the other side took too long")
