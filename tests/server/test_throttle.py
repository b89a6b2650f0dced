"""Login throttling: the policy on a clock the test moves, then the real server answering 429 with Retry-After."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from client.bundled import BundledServer
from server.throttle import LoginThrottle, ThrottlePolicy, retry_after
from tests.helpers.own_server import own_server

POLICY = ThrottlePolicy(free_failures=2, backoff_s=10.0, max_backoff_s=40.0, address_failures=6,
                        account_failures=8, window_s=100.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(POLICY, clock)


def fail(throttle: LoginThrottle, account: str, address: str, times: int) -> None:
    for _ in range(times):
        assert throttle.attempt(account, address) == 0.0


def test_backoff_starts_after_the_free_failures_and_doubles_up_to_the_cap(throttle: LoginThrottle,
                                                                         clock: Clock) -> None:
    fail(throttle, "ada", "10.0.0.1", 2)
    waits = []
    for _ in range(5):
        fail(throttle, "ada", "10.0.0.1", 1)
        waits.append(throttle.attempt("ada", "10.0.0.1"))
        clock.now += waits[-1]
    assert waits == [10.0, 20.0, 40.0, 40.0, 40.0]


def test_a_success_forgets_the_failures_of_its_pair(throttle: LoginThrottle) -> None:
    fail(throttle, "ada", "10.0.0.1", 2)
    assert throttle.attempt("ada", "10.0.0.1") == 0.0
    throttle.succeeded("ada", "10.0.0.1")
    fail(throttle, "ada", "10.0.0.1", 3)
    assert throttle.attempt("ada", "10.0.0.1") == 10.0


def test_an_attacker_elsewhere_does_not_slow_the_owner_down(throttle: LoginThrottle) -> None:
    fail(throttle, "ada", "10.0.0.1", 3)
    assert throttle.attempt("ada", "10.0.0.1") > 0
    assert throttle.attempt("ada", "192.168.1.5") == 0.0


def test_one_address_spraying_many_accounts_meets_the_address_cap(throttle: LoginThrottle, clock: Clock) -> None:
    for number in range(6):
        fail(throttle, f"user{number}", "10.0.0.9", 1)
        clock.now += 1
    wait = throttle.attempt("someone-else", "10.0.0.9")
    assert wait == pytest.approx(POLICY.window_s - 6)  # until the first of the six failures leaves the window
    assert throttle.attempt("someone-else", "10.0.0.10") == 0.0
    clock.now += wait + 0.01
    assert throttle.attempt("someone-else", "10.0.0.9") == 0.0


def test_many_addresses_against_one_account_spare_the_addresses_it_logged_in_from(throttle: LoginThrottle) -> None:
    assert throttle.attempt("ada", "10.0.0.1") == 0.0
    throttle.succeeded("ada", "10.0.0.1")
    for number in range(8):
        fail(throttle, "ada", f"172.16.0.{number}", 1)
    assert throttle.attempt("ada", "172.16.9.9") > 0
    assert throttle.attempt("ada", "10.0.0.1") == 0.0


def test_unknown_and_real_accounts_are_throttled_alike(throttle: LoginThrottle) -> None:
    # The throttle never asks whether an account exists: a 429 cannot tell a real name from a made-up one.
    fail(throttle, "real-user", "10.0.0.1", 3)
    fail(throttle, "no-such-user", "10.0.0.2", 3)
    assert throttle.attempt("real-user", "10.0.0.1") == throttle.attempt("no-such-user", "10.0.0.2") > 0


def test_the_policy_reads_the_environment_and_names_a_bad_variable() -> None:
    policy = ThrottlePolicy.from_environment({"LEGATO_LOGIN_BACKOFF_S": "0.25", "LEGATO_LOGIN_FREE_FAILURES": "0"})
    assert policy.backoff_s == 0.25 and policy.free_failures == 0
    assert policy.max_backoff_s == ThrottlePolicy().max_backoff_s
    with pytest.raises(ValueError, match="LEGATO_LOGIN_WINDOW_S"):
        ThrottlePolicy.from_environment({"LEGATO_LOGIN_WINDOW_S": "soon"})
    with pytest.raises(ValueError, match="LEGATO_LOGIN_ADDRESS_FAILURES"):
        ThrottlePolicy.from_environment({"LEGATO_LOGIN_ADDRESS_FAILURES": "-3"})


def test_retry_after_is_whole_seconds_never_zero() -> None:
    assert [retry_after(wait) for wait in (0.01, 1.0, 1.2, 59.9)] == ["1", "1", "2", "60"]


# -- the real server -------------------------------------------------------------------------------------------

FREE_FAILURES = 3
BACKOFF_S = 2  # long beside two back-to-back requests, short for a test to wait out


@pytest.fixture(scope="module")
def throttled_server(module_database: str, demo_data: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundledServer]:
    """The module's server, one per engine (so it depends on ``module_database``)."""
    environ = {"LEGATO_LOGIN_FREE_FAILURES": str(FREE_FAILURES), "LEGATO_LOGIN_BACKOFF_S": str(BACKOFF_S),
               "LEGATO_LOGIN_MAX_BACKOFF_S": str(BACKOFF_S)}
    with own_server(demo_data, tmp_path_factory.mktemp("throttled"), environ) as server:
        yield server


def login(server: BundledServer, name: str, password: str, address: str) -> httpx.Response:
    # The server trusts X-Forwarded-For from loopback (uvicorn's proxy headers): each test picks its own address.
    return httpx.post(f"{server.url}/auth/login", json={"username": name, "password": password},
                      headers={"X-Forwarded-For": address}, timeout=30)


def test_wrong_passwords_lead_to_429_the_right_one_refused_until_retry_after(
        throttled_server: BundledServer) -> None:
    statuses = [login(throttled_server, "alice", "guess", "198.51.100.1").status_code for _ in range(100)]
    assert statuses[:FREE_FAILURES + 1] == [401] * (FREE_FAILURES + 1)
    assert set(statuses) == {401, 429} and statuses.count(429) >= 90, statuses
    # Each admitted failure starts the wait again: the right password just after one is refused.
    deadline = time.monotonic() + 10 * BACKOFF_S
    while login(throttled_server, "alice", "guess", "198.51.100.1").status_code != 401:
        assert time.monotonic() < deadline, "the throttle never let a further attempt through"
        time.sleep(0.05)
    refused = login(throttled_server, "alice", "alice-pw", "198.51.100.1")
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "too_many_attempts"
    wait_s = int(refused.headers["retry-after"])
    assert 1 <= wait_s <= BACKOFF_S and f"{wait_s} s" in refused.json()["error"]["message"]
    time.sleep(wait_s)  # what is under test is the promise of Retry-After itself
    accepted = login(throttled_server, "alice", "alice-pw", "198.51.100.1")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["user"]["name"] == "alice"


def test_an_attacker_at_another_address_does_not_lock_the_owner_out(throttled_server: BundledServer) -> None:
    for _ in range(20):
        assert login(throttled_server, "bob", "guess", "203.0.113.66").status_code in (401, 429)
    assert login(throttled_server, "bob", "guess", "203.0.113.66").status_code == 429
    assert login(throttled_server, "bob", "bob-pw", "203.0.113.10").status_code == 200


def test_an_unknown_name_is_throttled_exactly_like_a_real_one(throttled_server: BundledServer) -> None:
    answers = {}
    for name, address in (("alice", "192.0.2.1"), ("nobody-at-all", "192.0.2.2")):
        answers[name] = [login(throttled_server, name, "guess", address) for _ in range(FREE_FAILURES + 2)]
    real, unknown = answers["alice"], answers["nobody-at-all"]
    assert [r.status_code for r in real] == [r.status_code for r in unknown] == [401] * (FREE_FAILURES + 1) + [429]
    assert [r.json()["error"]["code"] for r in real] == [r.json()["error"]["code"] for r in unknown]
