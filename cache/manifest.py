"""A transcoded file's manifest as the server publishes it, validated at the edge.

Never trusts a field it has not checked: a manifest that lies about its chunks is refused here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class ManifestError(ValueError):
    """The server sent a manifest Legato cannot use."""


@dataclass(frozen=True)
class FileManifest:
    """One encrypted file of a track: where its ciphertext is and how to check every chunk of it."""

    file_id: int
    quality: str
    codec: str
    url: str
    size_bytes: int
    chunk_size: int
    chunk_sha256: tuple[str, ...]
    frames: int
    sample_rate: int

    @property
    def chunk_count(self) -> int:
        return len(self.chunk_sha256)

    def chunk_span(self, index: int) -> tuple[int, int]:
        """Byte range [start, end) of chunk ``index`` in the ciphertext."""
        start = index * self.chunk_size
        return start, min(start + self.chunk_size, self.size_bytes)

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    def to_json(self) -> dict[str, Any]:
        """The server's manifest format again, so a stored manifest is re-validated when read back."""
        return {"id": self.file_id, "quality": self.quality, "codec": self.codec, "url": self.url,
                "size_bytes": self.size_bytes, "chunk_size": self.chunk_size,
                "chunks": list(self.chunk_sha256), "frames": self.frames,
                "sample_rate": self.sample_rate, "encryption": "aes-128-ctr"}

    @classmethod
    def from_json(cls, data: Any) -> FileManifest:
        try:
            manifest = cls(
                file_id=int(data["id"]),
                quality=str(data["quality"]),
                codec=str(data["codec"]),
                url=str(data["url"]),
                size_bytes=int(data["size_bytes"]),
                chunk_size=int(data["chunk_size"]),
                chunk_sha256=tuple(str(h) for h in data["chunks"]),
                frames=int(data["frames"]),
                sample_rate=int(data["sample_rate"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"malformed file manifest: {exc!r}") from exc
        if data.get("encryption", "aes-128-ctr") != "aes-128-ctr":
            raise ManifestError(f"unsupported encryption {data.get('encryption')!r}")
        if manifest.chunk_size <= 0 or manifest.chunk_size % 16:
            raise ManifestError(f"chunk size {manifest.chunk_size} is not a positive multiple of 16")
        if manifest.size_bytes < 0 or manifest.frames < 0 or manifest.sample_rate <= 0:
            raise ManifestError("manifest has a negative size, length or rate")
        if manifest.chunk_count != math.ceil(manifest.size_bytes / manifest.chunk_size):
            raise ManifestError(
                f"manifest lists {manifest.chunk_count} chunks for {manifest.size_bytes} bytes"
            )
        if not all(_SHA256_HEX.match(h) for h in manifest.chunk_sha256):
            raise ManifestError("manifest has a chunk hash that is not SHA-256 hex")
        return manifest
