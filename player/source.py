"""Where encoded bytes come from: the `Source` protocol, file and in-memory sources, and the
seekable file object PyAV reads through. Knows nothing of caches or the network."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable


class SourceError(OSError):
    """Bytes of a track could not be read (missing, truncated, corrupt chunk, network down)."""


class SourceUnavailable(SourceError):
    """The bytes cannot be had right now (the network is down or stalled, a chunk arrived corrupt);
    the same read may succeed later, so the engine retries it rather than ending the track.
    `retry_after_s`: how long the server asked to be left alone (a busy server's Retry-After), if it did."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@runtime_checkable
class Source(Protocol):
    """Random-access encoded bytes of one file; `read_at` may block while bytes arrive."""

    def size(self) -> int | None:
        """Total length in bytes, or None while it is not known yet."""
        ...

    def read_at(self, offset: int, size: int) -> bytes:
        """Up to `size` bytes at `offset`; fewer only at the end of the stream.

        Raises SourceError with a message naming the source when the bytes cannot be had, and its
        subclass SourceUnavailable when they may come later (network down, chunk corrupt in transit).
        """
        ...


class FileSource:
    """A local file, read with positional reads so several readers may share it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._fd = -1
        try:
            self._fd = os.open(self._path, os.O_RDONLY)
        except OSError as error:
            raise SourceError(f"cannot open audio file {self._path}: {error.strerror}") from error
        self._size = os.fstat(self._fd).st_size

    def size(self) -> int | None:
        return self._size

    def read_at(self, offset: int, size: int) -> bytes:
        try:
            return os.pread(self._fd, size, offset)
        except OSError as error:
            raise SourceError(f"cannot read {self._path} at byte {offset}: {error.strerror}") from error

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FileSource({str(self._path)!r})"


class BytesSource:
    """Encoded bytes already in memory (a RAM-cached track, a test fixture)."""

    def __init__(self, data: bytes, name: str = "memory") -> None:
        self._data = bytes(data)
        self._name = name

    def size(self) -> int | None:
        return len(self._data)

    def read_at(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0:
            raise SourceError(f"invalid read of {size} bytes at {offset} from {self._name}")
        return self._data[offset:offset + size]

    def __repr__(self) -> str:
        return f"BytesSource({self._name!r}, {len(self._data)} bytes)"


class SourceReader(io.RawIOBase):
    """A `Source` as the seekable binary file object `av.open` wants.

    SEEK_END on a source of unknown size probes for the end with one-byte reads. While `hide_end` is set, SEEK_END
    answers -1 (FFmpeg's "size unknown"), so a demuxer opening the file does not read its tail for a length the
    caller already knows (the Ogg demuxer reads the last 64 KiB otherwise: one more round trip before sound).
    """

    def __init__(self, source: Source, *, hide_end: bool = False) -> None:
        super().__init__()
        self._source = source
        self._position = 0
        self._lock = threading.Lock()
        self.hide_end = hide_end

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        with self._lock:
            data = self._source.read_at(self._position, len(view))
            view[:len(data)] = data
            self._position += len(data)
            return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        with self._lock:
            if whence == io.SEEK_SET:
                target = offset
            elif whence == io.SEEK_CUR:
                target = self._position + offset
            elif whence == io.SEEK_END:
                if self.hide_end:
                    return -1
                target = self._end() + offset
            else:
                raise ValueError(f"invalid whence {whence}")
            if target < 0:
                raise SourceError(f"seek before the start of {self._source!r}")
            self._position = target
            return target

    def _end(self) -> int:
        size = self._source.size()
        if size is not None:
            return size
        # Unknown size: find the end with a few one-byte probes (the length is in [low, high)).
        low, high = 0, 1 << 16
        while self._source.read_at(high - 1, 1):
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            if self._source.read_at(middle - 1, 1):
                low = middle
            else:
                high = middle
        return low
