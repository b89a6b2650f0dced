"""Run as a subprocess by the crash test: downloads two albums, one range request per line read on stdin,
printing "want" before each request and "fetched FILE START END" after it, until it is killed."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cache import FileManifest, MasterKey
from client.api import ApiClient
from offline import PinKey, RangeBody
from tests.helpers.offline_harness import RecordingSource, album_tracks, make_parts

PINNED = threading.Event()  # both albums are pinned and "pinned" printed: the first "want" may follow


class StdinGated(RecordingSource):
    @contextmanager
    def open_range(self, manifest: FileManifest, start: int, end: int) -> Iterator[RangeBody]:
        PINNED.wait()  # the worker starts on the first pin, before main has printed "pinned"
        print("want", flush=True)  # the single worker asks again only once the last range is stored
        if not sys.stdin.readline():
            raise SystemExit(0)
        with super().open_range(manifest, start, end) as body:
            yield body
        print(f"fetched {manifest.file_id} {start} {end}", flush=True)


def main(root: Path, url: str, user: str, password: str, key_hex: str) -> None:
    api = ApiClient(url)
    api.login(user, password)
    parts = make_parts(root, api, StdinGated(api, "lossless"), MasterKey(bytes.fromhex(key_hex)),
                       concurrency=1, request_bytes=64 * 1024)
    for index in range(2):
        album_id, tracks = album_tracks(api, index)
        parts.downloader.pin(PinKey("album", album_id), f"Album {index}", tracks)
    print("pinned", flush=True)
    PINNED.set()
    threading.Event().wait()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
