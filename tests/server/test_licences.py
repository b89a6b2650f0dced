"""Offline licences: granted with an expiry (30 days unless the server is configured otherwise) and recorded."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server import licences
from server.catalog import Catalog

DAY_S = 86400.0


@pytest.fixture(scope="module")
def client(live_server: Any, api_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {api_token}"},
                      timeout=30) as session:
        yield session


def first_file_id(client: httpx.Client) -> int:
    album = client.get("/albums").json()["albums"][0]
    track = client.get(f"/albums/{album['id']}").json()["tracks"][0]
    return int(client.get(f"/tracks/{track['id']}/manifest").json()["files"][0]["id"])


def test_offline_licence_expires_in_thirty_days_and_is_recorded(client: httpx.Client, live_server: Any) -> None:
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
    catalog = Catalog.open(live_server.data_dir)
    try:
        recorded = {grant.file_id: grant for grant in licences.grants(catalog, user_id)}
    finally:
        catalog.close()
    assert recorded[file_id].expires_at == pytest.approx(body["offline"]["expires_at"])


def test_offline_licence_needs_a_login(live_server: Any, client: httpx.Client) -> None:
    file_id = first_file_id(client)
    response = httpx.get(f"{live_server.url}/licences/{file_id}", params={"offline": "true"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


def test_offline_licence_validity_is_configurable(
        demo_data: Path, tmp_path: Path, demo_login: tuple[str, str], monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest) -> None:
    # tests/conftest.py's start_server/stop_server; "import conftest" would find this folder's conftest.
    shared = request.config.pluginmanager.get_plugin(str(Path(__file__).parents[1] / "conftest.py"))
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    monkeypatch.setenv(licences.VALIDITY_ENV, "2.5")
    server = shared.start_server(data)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as session:
            login = dict(zip(("username", "password"), demo_login, strict=True))
            session.headers["Authorization"] = f"Bearer {session.post('/auth/login', json=login).json()['token']}"
            body = session.get(f"/licences/{first_file_id(session)}", params={"offline": "true"}).json()
    finally:
        shared.stop_server(server)
    assert body["offline"]["valid_s"] == 2.5 * DAY_S


def test_a_validity_that_is_not_a_positive_number_of_days_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(licences.VALIDITY_ENV, "-3")
    with pytest.raises(ValueError, match="positive number of days"):
        licences.validity_s()
