"""Admission control: the gate's bounds on a clock the test moves, the knobs from the environment, and the real
server answering 503 with Retry-After over its limits while other endpoints go on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from client.bundled import BundledServer
from server.admission import AdmissionPolicy, Limit, _Gate
from tests.helpers.own_server import own_server


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_admits_its_burst_then_refuses_until_tokens_refill() -> None:
    clock = Clock()
    gate = _Gate(Limit(concurrency=100, rate_per_s=2.0, burst=3), clock)
    assert [gate.refusal_wait_s() for _ in range(3)] == [None, None, None]
    assert gate.refusal_wait_s() == pytest.approx(0.5)
    clock.now += 0.5
    assert gate.refusal_wait_s() is None
    assert gate.refusal_wait_s() == pytest.approx(0.5)


def test_concurrency_is_bounded_while_requests_are_in_progress() -> None:
    gate = _Gate(Limit(concurrency=2, rate_per_s=1000.0, burst=1000), Clock())
    assert gate.refusal_wait_s() is None and gate.refusal_wait_s() is None
    assert gate.refusal_wait_s() == 1.0
    gate.in_flight -= 1  # one answer finished
    assert gate.refusal_wait_s() is None


def test_the_policy_reads_the_environment_and_names_a_bad_variable() -> None:
    policy = AdmissionPolicy.from_environment({"LEGATO_ADMIT_LICENCE_RATE": "5", "LEGATO_ADMIT_FILES_BURST": "7"})
    assert policy.limits["licence"].rate_per_s == 5.0 and policy.limits["files"].burst == 7
    assert policy.limits["manifest"] == AdmissionPolicy.from_environment({}).limits["manifest"]
    with pytest.raises(ValueError, match="LEGATO_ADMIT_MANIFEST_CONCURRENCY='many'"):
        AdmissionPolicy.from_environment({"LEGATO_ADMIT_MANIFEST_CONCURRENCY": "many"})


@pytest.fixture(scope="module")
def tight_server(module_database: str, demo_data: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundledServer]:
    """The module's server, one per engine (so it depends on ``module_database``)."""
    environ = {"LEGATO_ADMIT_LICENCE_RATE": "0.5", "LEGATO_ADMIT_LICENCE_BURST": "2",
               "LEGATO_ADMIT_FILES_RATE": "0.5", "LEGATO_ADMIT_FILES_BURST": "2"}
    with own_server(demo_data, tmp_path_factory.mktemp("admission"), environ) as server:
        yield server


def test_over_its_limit_the_server_answers_503_with_retry_after(tight_server: BundledServer) -> None:
    url = tight_server.url
    token = httpx.post(f"{url}/auth/login", json={"username": "alice", "password": "alice-pw"}).json()["token"]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as alice:
        track_id = alice.get("/albums/1").json()["tracks"][0]["id"]
        file_id = alice.get(f"/tracks/{track_id}/manifest").json()["files"][0]["id"]
        statuses = [alice.get(f"/licences/{file_id}") for _ in range(4)]
        assert [r.status_code for r in statuses][:2] == [200, 200]
        shed = statuses[-1]
        assert shed.status_code == 503 and shed.json()["error"]["code"] == "server_busy"
        assert int(shed.headers["retry-after"]) >= 1
        ranges = [alice.get(f"/files/{file_id}", headers={"Range": "bytes=0-99"}).status_code for _ in range(4)]
        assert ranges[:2] == [206, 206] and ranges[-1] == 503
        assert alice.get(f"/tracks/{track_id}/manifest").status_code == 200  # other endpoints go on
        assert alice.get("/albums").status_code == 200
