"""Offline downloads: throughput of pinning 10 albums from the bundled server on loopback, and CPU per MB.

Builds a fresh 10-album demo catalog, serves it with the bundled server, and pins every album (lossless, the
default 2 workers, one streamed Range request per file) into a real ContentStore through the real Downloader; then
again with requests capped at 1 MiB and at one 64 KiB chunk, to show what the number of requests costs. The
baseline is a plain sequential copy of the same encrypted files (shutil.copyfile, hot page cache, like the server's
reads), and, for context, the same copy with an fsync per 64 KiB chunk as the crash-safe disk cache does.
The master key is a random in-memory key: the keystore is not on the measured path.
Prints human lines; the last line is one JSON object.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cache import ContentStore, FileManifest, MasterKey
from client.api import ApiClient
from client.bundled import BundledServer
from client.downloads.controller import ApiDownloadSource
from offline import Connectivity, Downloader, PinKey, RangeBody, TrackRef
from server.demo import build_demo
from server.origin import origin_path

ALBUMS = 10
SECONDS_PER_TRACK = 20.0
QUALITY = "lossless"
TIMEOUT_S = 600.0
MB = 1024 * 1024
CAPPED_REQUESTS = {"1m": MB, "64k": 64 * 1024}


class CountingSource(ApiDownloadSource):
    """The app's download source, counting the Range requests it makes."""

    def __init__(self, api: ApiClient, quality: str) -> None:
        super().__init__(api, quality)
        self.requests = 0

    def open_range(self, manifest: FileManifest, start: int, end: int) -> AbstractContextManager[RangeBody]:
        self.requests += 1  # the source is called from 2 workers: a count off by one at worst is fine here
        return super().open_range(manifest, start, end)


def pin_everything(api: ApiClient, root: Path,
                   request_bytes: int | None = None) -> tuple[float, float, int, list[FileManifest]]:
    """Wall and CPU seconds to download every album, the Range requests made, and the files downloaded."""
    albums = [(str(album["id"]), api.album(int(album["id"]))) for album in api.albums()]
    store = ContentStore(root / "cache", api, api, MasterKey(os.urandom(32)))
    connectivity = Connectivity(api.health)
    source = CountingSource(api, QUALITY)
    downloader = Downloader(root / "queue.db", store, source, connectivity, root / "cache",
                            request_bytes=request_bytes)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        for album_id, album in albums:
            tracks = [TrackRef(int(t["id"]), str(t["title"])) for t in album["tracks"]]
            downloader.pin(PinKey("album", album_id), str(album["title"]), tracks)
        if not downloader.wait_idle(TIMEOUT_S):
            raise RuntimeError(f"the pins did not finish within {TIMEOUT_S:.0f} s")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        items = downloader.queue.items()
        failed = [item for item in items if item.state != "done"]
        if failed:
            raise RuntimeError(f"{len(failed)} downloads did not finish: {failed[0].error}")
        return wall, cpu, source.requests, [item.manifest for item in items if item.manifest is not None]
    finally:
        downloader.close()
        connectivity.close()
        store.close()


def copy_files(sources: list[Path], target: Path, fsync_every: int | None) -> float:
    """Seconds to copy ``sources`` one after another into ``target`` (optionally fsyncing every N bytes)."""
    target.mkdir()
    started = time.perf_counter()
    for index, source in enumerate(sources):
        destination = target / str(index)
        if fsync_every is None:
            shutil.copyfile(source, destination)
            continue
        with open(source, "rb") as reader:
            while block := reader.read(fsync_every):
                with open(target / f"{index}-{reader.tell()}", "wb") as out:
                    out.write(block)
                    out.flush()
                    os.fsync(out.fileno())
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="legato-offline-bench-") as temp:
        root = Path(temp)
        data = root / "server"
        print(f"building a {ALBUMS}-album demo catalog ({SECONDS_PER_TRACK:.0f} s tracks) ...", flush=True)
        started = time.perf_counter()
        build_demo(data, albums=ALBUMS, seconds_per_track=SECONDS_PER_TRACK)
        print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
        server = BundledServer(data)
        url = server.start()
        api = ApiClient(url)
        try:
            api.login("demo", "demo")
            wall_s, cpu_s, requests, manifests = pin_everything(api, root / "client")
            capped = {name: pin_everything(api, root / f"client-{name}", cap)[:3]
                      for name, cap in CAPPED_REQUESTS.items()}
        finally:
            api.close()
            server.stop()
        total_bytes = sum(m.size_bytes for m in manifests)
        origins = [origin_path(data, m.file_id) for m in manifests]
        for path in origins:
            path.read_bytes()  # hot page cache, as the server's reads were
        copy_s = copy_files(origins, root / "copy", None)
        copy_fsync_s = copy_files(origins, root / "copy-fsync", manifests[0].chunk_size)

    megabytes = total_bytes / MB
    figures = {
        "albums": ALBUMS,
        "tracks": len(manifests),
        "megabytes": round(megabytes, 2),
        "download_s": round(wall_s, 3),
        "download_mb_per_s": round(megabytes / wall_s, 1),
        "copy_mb_per_s": round(megabytes / copy_s, 1),
        "copy_fsync_mb_per_s": round(megabytes / copy_fsync_s, 1),
        "ratio_to_copy": round(copy_s / wall_s, 4),
        "ratio_to_copy_fsync": round(copy_fsync_s / wall_s, 4),
        "cpu_ms_per_mb": round(1000 * cpu_s / megabytes, 2),
        "requests": requests,
    }
    for name, (capped_wall_s, _, capped_requests) in capped.items():
        figures[f"capped_{name}_mb_per_s"] = round(megabytes / capped_wall_s, 1)
        figures[f"capped_{name}_requests"] = capped_requests
        figures[f"capped_{name}_ratio_to_uncapped"] = round(wall_s / capped_wall_s, 4)
    print(f"pinned {ALBUMS} albums: {len(manifests)} tracks, {megabytes:.1f} MB of {QUALITY} in {wall_s:.2f} s "
          f"= {figures['download_mb_per_s']} MB/s")
    print(f"plain sequential copy of the same files: {figures['copy_mb_per_s']} MB/s; "
          f"download/copy throughput ratio {figures['ratio_to_copy']}")
    print(f"copy with an fsync per {manifests[0].chunk_size // 1024} KiB chunk: {figures['copy_fsync_mb_per_s']} "
          f"MB/s; download/that ratio {figures['ratio_to_copy_fsync']}")
    print(f"client CPU: {cpu_s:.2f} s = {figures['cpu_ms_per_mb']} ms per MB (download, verify, store)")
    print(f"{requests} Range requests (one per file); capped at 1 MiB: {figures['capped_1m_requests']} requests, "
          f"{figures['capped_1m_mb_per_s']} MB/s; at one 64 KiB chunk: {figures['capped_64k_requests']} requests, "
          f"{figures['capped_64k_mb_per_s']} MB/s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
