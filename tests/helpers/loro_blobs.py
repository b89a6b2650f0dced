"""Hostile loro blobs for tests: valid updates with their body mutated and their checksum re-sealed.

Loro's envelope (crates/loro-internal/src/encoding.rs): ``b"loro"``, a 16-byte checksum field, a 2-byte mode,
then the body. For the fast modes (FastSnapshot, FastUpdates) the checksum is xxHash32 with seed
``u32::from_le_bytes(*b"LORO")`` over everything from byte 20 on, stored little-endian at bytes 16..20.
An attacker re-seals it after editing, so every mutation here does too: the checksum guards nothing.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import xxhash

CHECKSUM_SEED = int.from_bytes(b"LORO", "little")
_BODY_START = 22  # magic (4) + checksum field (16) + mode (2)
_VARINT_BOMB = bytes([0xFF] * 6 + [0x0F])  # LEB128 of 2**46 - 1: a length loro may try to allocate
SKIPPING_PLAYLIST = "987e7a8b-7c44-9dcf-abca-5564e07bf2b6"  # the playlist of ``skips_its_peers_change``


def skips_its_peers_change() -> bytes:
    """A snapshot of SKIPPING_PLAYLIST, left by the push fuzzer, in which a peer's second change does not descend
    from its first (its deps name another peer's change only). Loro loads it alone; it wedges a replica later."""
    return (Path(__file__).parents[1] / "sync" / "fixtures" / "skips-its-peers-change.bin").read_bytes()


def reseal(blob: bytes) -> bytes:
    """``blob`` with a checksum loro accepts (for the fast encodings, which are all that loro 1.x exports)."""
    sealed = bytearray(blob)
    sealed[16:20] = struct.pack("<I", xxhash.xxh32_intdigest(bytes(sealed[20:]), CHECKSUM_SEED))
    return bytes(sealed)


def is_sealed(blob: bytes) -> bool:
    return len(blob) >= 20 and blob[16:20] == struct.pack("<I", xxhash.xxh32_intdigest(blob[20:], CHECKSUM_SEED))


def mutate(rng: random.Random, blob: bytes) -> bytes:
    """One to five random edits of ``blob``'s body (bytes set, flipped, cut, inserted, maxed), then re-sealed."""
    body = bytearray(blob)
    for _ in range(rng.choice([1, 1, 2, 3, 5])):
        at = rng.randrange(_BODY_START, max(_BODY_START + 1, len(body)))
        kind = rng.random()
        if kind < 0.45:
            body[at:at + 1] = bytes([rng.randrange(256)])
        elif kind < 0.65:
            body[at:at + 1] = bytes([body[at] ^ (1 << rng.randrange(8))]) if at < len(body) else b""
        elif kind < 0.75:
            del body[at:at + rng.choice([1, 1, 4, 16])]
        elif kind < 0.85:
            body[at:at] = bytes([rng.choice([0x00, 0x7F, 0x80, 0xFF, rng.randrange(256)])])
        elif kind < 0.93:
            body[at:at + 4] = b"\xff\xff\xff\xff"
        else:
            body[at:at + 1] = _VARINT_BOMB
    return reseal(bytes(body))
