"""The server's pool of catalog connections: a connection comes back to later requests and still reads every
commit made since; one left inside a transaction is closed, never lent again; the API reads its own writes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from server.catalog import Catalog
from server.catalog_pool import CatalogPool
from tests.helpers.app_server import MovableClock, app_server, copy_with_users
from tests.helpers.postgres import ON_BOTH_ENGINES, copy_data_dir

pytestmark = ON_BOTH_ENGINES


def _users(catalog: Catalog) -> int:
    row = catalog.query_one("SELECT COUNT(*) AS n FROM users")
    assert row is not None
    return int(row["n"])


@pytest.fixture
def data_dir(demo_data: Path, tmp_path: Path) -> Path:
    copy_data_dir(demo_data, tmp_path / "data")
    return tmp_path / "data"


def test_a_returned_connection_is_lent_again_and_reads_later_commits(data_dir: Path) -> None:
    pool = CatalogPool(data_dir)
    lent = pool.open()
    before = _users(lent)
    pool.give_back(lent)
    writer = Catalog.open(data_dir)
    try:
        writer.add_user("pooled", "not-a-hash", "GB")
    finally:
        writer.close()
    again = pool.take_idle()
    assert again is lent
    assert _users(again) == before + 1
    pool.give_back(again)
    pool.close()


def test_a_connection_left_in_a_transaction_is_closed_not_kept(data_dir: Path) -> None:
    pool = CatalogPool(data_dir)
    lent = pool.open()
    lent.execute("BEGIN" if lent.postgresql else "BEGIN IMMEDIATE")  # SQLite: holding the write lock as well
    lent.execute("INSERT INTO users (name, password_hash, region) VALUES ('half', 'x', 'GB')")
    pool.give_back(lent)
    assert pool.take_idle() is None
    with pytest.raises(sa.exc.ResourceClosedError):
        lent.execute("SELECT 1")
    other = Catalog.open(data_dir)  # the write lock went with it, and so did the uncommitted row
    try:
        other.add_user("after", "not-a-hash", "GB")
        assert other.user_by_name("half") is None
    finally:
        other.close()


def test_it_keeps_at_most_its_bound_idle_and_closes_what_comes_back_after_close(data_dir: Path) -> None:
    pool = CatalogPool(data_dir, max_idle=1)
    first, second = pool.open(), pool.open()
    pool.give_back(first)
    pool.give_back(second)
    with pytest.raises(sa.exc.ResourceClosedError):
        second.execute("SELECT 1")
    late = pool.take_idle()
    assert late is first
    pool.close()
    pool.give_back(late)
    with pytest.raises(sa.exc.ResourceClosedError):
        late.execute("SELECT 1")


def test_each_answer_reads_the_write_the_request_before_it_made(demo_data: Path, tmp_path: Path) -> None:
    data = copy_with_users(demo_data, tmp_path, {"alice": "alice-pw"})
    with app_server(data, MovableClock()) as url, httpx.Client(base_url=url) as client:
        token = client.post("/auth/login", json={"username": "alice", "password": "alice-pw"}).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        for _ in range(15):
            assert client.put("/me/presaves/1").status_code == 204
            assert [album["id"] for album in client.get("/me/presaves").json()["albums"]] == [1]
            assert client.delete("/me/presaves/1").status_code == 204
            assert client.get("/me/presaves").json()["albums"] == []
        assert client.post("/auth/logout").status_code == 204
        assert client.get("/tracks/1/manifest").status_code == 401
