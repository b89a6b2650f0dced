"""Run as a subprocess by the crash test: writes chunks of many files into a small disk cache until killed."""

from __future__ import annotations

import sys
from pathlib import Path

from cache import DiskCache
from tests.helpers.chunk_data import chunks_of, file_bytes, manifest_for

CHUNK = 4096


def main(root: Path, first_file: int) -> None:
    disk = DiskCache(root, cap_bytes=CHUNK * 40)
    file_id = first_file
    while True:
        data = file_bytes(file_id, CHUNK * 7 + 100)
        manifest = manifest_for(file_id, data, CHUNK)
        disk.touch(manifest)
        for index, chunk in enumerate(chunks_of(data, CHUNK)):
            disk.put_chunk(manifest, index, chunk)
            print(f"{file_id} {index}", flush=True)
        if file_id % 3 == 0:
            disk.pin(manifest)
        if file_id % 5 == 0:
            disk.unpin(file_id - 3)
        file_id += 1


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
