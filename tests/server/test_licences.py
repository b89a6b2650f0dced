"""Offline licences: granted with an expiry (30 days unless the server is configured otherwise) and recorded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server import licences
from server.catalog import Catalog
from tests.conftest import LiveServer, start_server, stop_server
from tests.helpers.own_server import DemoServer
from tests.helpers.postgres import ON_BOTH_ENGINES, copy_data_dir

pytestmark = ON_BOTH_ENGINES

DAY_S = 86400.0


@pytest.fixture(scope="module")
def client(demo_server: LiveServer, demo_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.url, headers={"Authorization": f"Bearer {demo_token}"},
                      timeout=30) as session:
        yield session


def first_file_id(client: httpx.Client) -> int:
    album = client.get("/albums").json()["albums"][0]
    track = client.get(f"/albums/{album['id']}").json()["tracks"][0]
    return int(client.get(f"/tracks/{track['id']}/manifest").json()["files"][0]["id"])


def test_offline_licence_expires_in_thirty_days_and_is_recorded(client: httpx.Client, demo_server: DemoServer) -> None:
    file_id = first_file_id(client)
    before = time.time()
    body = client.get(f"/licences/{file_id}", params={"offline": "true"}).json()
    plain = client.get(f"/licences/{file_id}").json()
    assert (body["key"], body["nonce"]) == (plain["key"], plain["nonce"])
    assert "offline" not in plain
    assert body["offline"]["valid_s"] == 30 * DAY_S
    assert before <= body["offline"]["granted_at"] <= time.time()
    assert body["offline"]["expires_at"] == pytest.approx(body["offline"]["granted_at"] + 30 * DAY_S)
    user_id = int(client.get("/me").json()["id"])
    catalog = Catalog.open(demo_server.data_dir, demo_server.database)  # the server's catalog, not the test's own
    try:
        recorded = {grant.file_id: grant for grant in licences.grants(catalog, user_id)}
    finally:
        catalog.close()
    assert recorded[file_id].expires_at == pytest.approx(body["offline"]["expires_at"])


def test_offline_licence_needs_a_login(demo_server: LiveServer, client: httpx.Client) -> None:
    file_id = first_file_id(client)
    response = httpx.get(f"{demo_server.url}/licences/{file_id}", params={"offline": "true"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


def test_offline_licence_validity_is_configurable(
        demo_data: Path, tmp_path: Path, demo_login: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    copy_data_dir(demo_data, data)
    monkeypatch.setenv(licences.VALIDITY_ENV, "2.5")
    server = start_server(data)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as session:
            login = dict(zip(("username", "password"), demo_login, strict=True))
            session.headers["Authorization"] = f"Bearer {session.post('/auth/login', json=login).json()['token']}"
            body = session.get(f"/licences/{first_file_id(session)}", params={"offline": "true"}).json()
    finally:
        stop_server(server)
    assert body["offline"]["valid_s"] == 2.5 * DAY_S


def test_a_validity_that_is_not_a_positive_number_of_days_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(licences.VALIDITY_ENV, "-3")
    with pytest.raises(ValueError, match="positive number of days"):
        licences.validity_s()
