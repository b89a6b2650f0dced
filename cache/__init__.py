"""Legato's content store in tiers: RAM prefetch, encrypted LRU disk cache, OS-keystore master key.

Today it holds the network tier's building blocks: manifests, licence keys and the verifying, decrypting source.
"""

from cache.cipher import FileKey, LicenceError, decrypt_at
from cache.manifest import FileManifest, ManifestError
from cache.stream import ChunkFetcher, ChunkIntegrityError, DecryptingSource

__all__ = [
    "ChunkFetcher",
    "ChunkIntegrityError",
    "DecryptingSource",
    "FileKey",
    "FileManifest",
    "LicenceError",
    "ManifestError",
    "decrypt_at",
]
