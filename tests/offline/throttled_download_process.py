"""Run as a subprocess by the kill-on-a-slow-link test: downloads the first track of the first album (lossless),
prints "pinned" once it is queued and "done" once it is complete, then exits; the test kills it before that."""

from __future__ import annotations

import sys
from pathlib import Path

from cache import MasterKey
from client.api import ApiClient
from offline import PinKey
from tests.helpers.offline_harness import WAIT_S, RecordingSource, album_tracks, make_parts


def main(root: Path, url: str, user: str, password: str, key_hex: str) -> None:
    api = ApiClient(url)
    api.login(user, password)
    parts = make_parts(root, api, RecordingSource(api, "lossless"), MasterKey(bytes.fromhex(key_hex)),
                       concurrency=1)
    album_id, tracks = album_tracks(api, 0)
    parts.downloader.pin(PinKey("album", album_id), "Album 0", tracks[:1])
    print("pinned", flush=True)
    finished = parts.downloader.wait_idle(WAIT_S * 10)
    state = parts.downloader.snapshot().items[0].state
    parts.close()
    print("done" if finished and state == "done" else f"stopped in state {state}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
