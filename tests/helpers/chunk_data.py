"""Deterministic ciphertext-like files and their manifests, for the disk-tier tests and the crash writer."""

from __future__ import annotations

import hashlib
import random

from cache import FileManifest


def file_bytes(file_id: int, size: int) -> bytes:
    return random.Random(file_id).randbytes(size)


def manifest_for(file_id: int, data: bytes, chunk_size: int) -> FileManifest:
    chunks = [hashlib.sha256(data[i : i + chunk_size]).hexdigest() for i in range(0, len(data), chunk_size)]
    return FileManifest.from_json({
        "id": file_id, "quality": "high", "codec": "opus", "url": f"/files/{file_id}",
        "size_bytes": len(data), "chunk_size": chunk_size, "chunks": chunks,
        "frames": 48000 * 10, "sample_rate": 48000, "encryption": "aes-128-ctr",
    })


def chunks_of(data: bytes, chunk_size: int) -> list[bytes]:
    return [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
