"""Passwords (scrypt, salted, self-describing hashes) and bearer-token sessions (only token hashes are stored)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from server.catalog import Catalog

SESSION_LIFETIME_S = 30 * 24 * 3600
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_SCHEME = "scrypt"


@dataclass(frozen=True)
class User:
    id: int
    name: str
    region: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        return cls(int(row["id"]), str(row["name"]), str(row["region"]))


def hash_password(password: str) -> str:
    """A salted scrypt hash as ``scrypt$n$r$p$salt$key`` (base64), so parameters can change later."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return "$".join([_SCHEME, str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(key)])


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored`` (compared in constant time)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def authenticate(catalog: Catalog, name: str, password: str) -> User | None:
    """The user with this name and password, or None."""
    row = catalog.user_by_name(name)
    # Verifying against a throwaway hash for unknown names keeps login time independent of whether a name exists.
    matches = verify_password(password, row["password_hash"] if row else _dummy_hash())
    return User.from_row(row) if row is not None and matches else None


def create_user(catalog: Catalog, name: str, password: str, region: str) -> User:
    """Add a user; raises UserExistsError if the name is taken."""
    user_id = catalog.add_user(name, hash_password(password), region)
    return User(user_id, name, region)


def open_session(catalog: Catalog, user: User) -> str:
    """Start a session for ``user`` and return its bearer token (only its SHA-256 is stored)."""
    token = secrets.token_urlsafe(32)
    now = int(time.time())
    catalog.add_session(token_sha256(token), user.id, now, now + SESSION_LIFETIME_S)
    return token


def session_user(catalog: Catalog, token: str) -> User | None:
    """The user of an unexpired session with this token, or None."""
    row = catalog.session_user(token_sha256(token), int(time.time()))
    return None if row is None else User.from_row(row)


def close_session(catalog: Catalog, token: str) -> None:
    catalog.delete_session(token_sha256(token))


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
