"""Legato's content store in tiers: RAM prefetch, encrypted LRU disk cache, OS-keystore master key.

Other parts use ContentStore (open a file for playing, plan the prefetch, pin, stats) and the records below.
"""

from cache.cipher import FileKey, LicenceError, decrypt_at
from cache.disk import DEFAULT_CAP_BYTES, CachedFile, DiskCache
from cache.keystore import KeystoreUnavailable, KeyUnwrapError, MasterKey
from cache.manifest import FileManifest, ManifestError
from cache.prefetch import PrefetchItem
from cache.stats import CacheStats
from cache.store import ContentStore, LicenceFetcher
from cache.stream import (
    ChunkFetcher,
    ChunkIntegrityError,
    DecryptingSource,
    PlaintextSource,
)

__all__ = [
    "DEFAULT_CAP_BYTES",
    "CacheStats",
    "CachedFile",
    "ChunkFetcher",
    "ChunkIntegrityError",
    "ContentStore",
    "DecryptingSource",
    "DiskCache",
    "FileKey",
    "FileManifest",
    "KeyUnwrapError",
    "KeystoreUnavailable",
    "LicenceError",
    "LicenceFetcher",
    "ManifestError",
    "MasterKey",
    "PlaintextSource",
    "PrefetchItem",
    "decrypt_at",
]
