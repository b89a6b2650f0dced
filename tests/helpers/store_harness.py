"""Helpers for the content-store tests: a recording, holdable fetcher and an end-to-end decode of a Source."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from cache import FileKey, FileManifest
from client.api import ApiClient
from player import Decoder, Source

WAIT_S = 30.0


class Recorder:
    """A ChunkFetcher and LicenceFetcher over another one that records requests; ``hold()`` makes them wait."""

    def __init__(self, inner: ApiClient) -> None:
        self.inner = inner
        self.ranges: list[tuple[int, int, int]] = []
        self.licences: list[int] = []
        self.on_fetch: Callable[[], None] = lambda: None
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self.waiting = threading.Event()

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def fetch(self, manifest: FileManifest, start: int, end: int) -> bytes:
        with self._lock:
            self.ranges.append((manifest.file_id, start, end))
        self.on_fetch()
        self.waiting.set()
        if not self._open.wait(WAIT_S):
            raise TimeoutError("the test never released a held fetch")
        return self.inner.fetch(manifest, start, end)

    def licence(self, file_id: int) -> FileKey:
        with self._lock:
            self.licences.append(file_id)
        return self.inner.licence(file_id)

    def files_fetched(self) -> list[int]:
        with self._lock:
            return [file_id for file_id, _, _ in self.ranges]


def decode_all(source: Source, frames: int) -> npt.NDArray[np.float32]:
    return Decoder(source, frames, name="test").read_all()
