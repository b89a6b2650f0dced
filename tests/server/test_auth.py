"""Passwords and sessions: real KDF hashes, constant-format storage, hashed tokens, expiry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server import auth
from server.catalog import Catalog
from server.exceptions import UserExistsError
from tests.helpers.postgres import ON_BOTH_ENGINES

pytestmark = ON_BOTH_ENGINES


@pytest.fixture()
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(tmp_path)
    yield opened
    opened.close()


def test_password_hash_is_salted_scrypt_and_verifies_only_the_right_password() -> None:
    first, second = auth.hash_password("correct horse"), auth.hash_password("correct horse")
    assert first.startswith("scrypt$16384$8$1$") and "correct horse" not in first
    assert first != second
    assert auth.verify_password("correct horse", first)
    assert not auth.verify_password("correct horsE", first)
    assert not auth.verify_password("correct horse", "garbage")


def test_authenticate_accepts_the_password_and_rejects_others(catalog: Catalog) -> None:
    user = auth.create_user(catalog, "ada", "s3cret", "SE")
    assert auth.authenticate(catalog, "ada", "s3cret") == user
    assert auth.authenticate(catalog, "ada", "wrong") is None
    assert auth.authenticate(catalog, "nobody", "s3cret") is None


def test_a_taken_user_name_is_refused(catalog: Catalog) -> None:
    auth.create_user(catalog, "ada", "one", "GB")
    with pytest.raises(UserExistsError, match="ada"):
        auth.create_user(catalog, "ada", "two", "GB")


def test_sessions_store_only_a_hash_of_the_token(catalog: Catalog, tmp_path: Path) -> None:
    user = auth.create_user(catalog, "ada", "pw", "GB")
    token = auth.open_session(catalog, user)
    assert auth.session_user(catalog, token) == user
    stored = catalog.query("SELECT token_sha256, expires - created AS lifetime FROM sessions")
    assert stored == [{"token_sha256": auth.token_sha256(token), "lifetime": auth.SESSION_LIFETIME_S}]
    assert all(token.encode() not in path.read_bytes() for path in tmp_path.iterdir())
    auth.close_session(catalog, token)
    assert auth.session_user(catalog, token) is None


def test_an_expired_session_is_rejected(catalog: Catalog) -> None:
    user = auth.create_user(catalog, "ada", "pw", "GB")
    token = "expired-token"
    now = int(time.time())
    catalog.add_session(auth.token_sha256(token), user.id, now - 100, now - 1)
    assert auth.session_user(catalog, token) is None
