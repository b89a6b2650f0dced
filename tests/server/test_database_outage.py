"""PostgreSQL restarted under a running server (a private cluster of the test's own): while it is down every
request that needs it gets a clear 503 with Retry-After, the server stays up, and once it is back the same
server answers again by itself (its pool replaces the dead connections)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from server.database import DATABASE_ENV, dispose_engines
from tests.helpers.offline_harness import wait_until
from tests.helpers.own_server import own_server, server_pid, signed_in
from tests.helpers.postgres import binaries, running_cluster

pytestmark = pytest.mark.skipif(binaries() is None, reason="Debian's postgresql is not installed")


def test_a_restarted_database_answers_503_meanwhile_and_the_server_recovers_by_itself(
        demo_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_cluster() as cluster:
        monkeypatch.setenv(DATABASE_ENV, cluster.database(cluster.catalog_template()))
        with own_server(demo_data, tmp_path) as server, signed_in(server) as users:
            alice = users["alice"]
            assert alice.get("/me").status_code == 200
            pid = server_pid(server)
            cluster.stop()
            dispose_engines()  # this process's own connections to the stopped cluster
            down = [alice.get(path) for path in ("/me", "/albums", "/me/plays", "/playlists")]
            assert [answer.status_code for answer in down] == [503] * len(down), [a.text for a in down]
            assert all(answer.json()["error"]["code"] == "database_unavailable" for answer in down)
            assert all(answer.headers["Retry-After"] == "2" for answer in down)
            assert httpx.get(f"{server.url}/health").status_code == 200  # up, and saying so
            cluster.start()
            wait_until(lambda: alice.get("/me").status_code == 200, "the server answering again", 30)
            assert alice.get("/albums").status_code == 200
            assert server_pid(server) == pid  # the same process, never restarted
    dispose_engines()
