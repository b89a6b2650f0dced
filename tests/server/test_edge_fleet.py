"""One address in front of several server instances: a real nginx edge started by ``legato-server edge`` with two
``--origin``s spreads requests over both, and when one instance stops, the other answers everything — reads and
writes alike — with no error reaching the client. Each instance's own request log says which one answered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from client.bundled import BundledServer
from server.edge import EdgeConfig
from server.exceptions import EdgeError
from tests.helpers.edge_cache import origin_requests, running_edge
from tests.helpers.own_server import USERS, own_server

REQUESTS = 40


@dataclass(frozen=True)
class Fleet:
    instances: tuple[BundledServer, BundledServer]
    logs: tuple[Path, Path]
    edge_url: str

    def answered(self, path: str) -> tuple[int, int]:
        """How many requests for ``path`` each instance answered."""
        first, second = (sum(1 for r in origin_requests(log) if r.path == path) for log in self.logs)
        return first, second


@pytest.fixture
def fleet(demo_data: Path, tmp_path: Path) -> Iterator[Fleet]:
    logs = (tmp_path / "a.log", tmp_path / "b.log")
    with ExitStack() as stack:
        instances = tuple(stack.enter_context(own_server(demo_data, tmp_path / name, {"LEGATO_REQUEST_LOG": str(log)}))
                          for name, log in zip("ab", logs, strict=True))
        a, b = instances
        assert a.url is not None and b.url is not None
        edge_url = stack.enter_context(running_edge([a.url, b.url], tmp_path / "edge"))
        yield Fleet((a, b), logs, edge_url)


def test_the_edge_spreads_requests_and_passes_over_a_stopped_instance(fleet: Fleet) -> None:
    with httpx.Client(base_url=fleet.edge_url) as client:
        answers = [client.get("/health").status_code for _ in range(REQUESTS)]
    assert answers == [200] * REQUESTS
    first, second = fleet.answered("/health")
    assert first + second == REQUESTS
    assert min(first, second) >= REQUESTS // 4, (first, second)

    fleet.instances[1].stop()
    name, (password, _region) = next(iter(USERS.items()))
    with httpx.Client(base_url=fleet.edge_url) as client:
        reads = [client.get("/health").status_code for _ in range(REQUESTS)]
        logins = [client.post("/auth/login", json={"username": name, "password": password}).status_code
                  for _ in range(4)]
    assert reads == [200] * REQUESTS
    assert logins == [200] * 4
    assert fleet.answered("/health") == (first + REQUESTS, second)
    assert fleet.answered("/auth/login") == (4, 0)


def test_each_origin_is_named_once_and_a_bad_one_is_refused() -> None:
    config = EdgeConfig.parse(["http://127.0.0.1:8765", "http://127.0.0.1:8766", "http://127.0.0.1:8765/"],
                              "127.0.0.1:8080", Path("/tmp/edge"), "1g")
    assert config.origins == ("127.0.0.1:8765", "127.0.0.1:8766")
    assert config.render().count("server 127.0.0.1:876") == 2
    with pytest.raises(EdgeError, match=re.escape("--origin 'http://127.0.0.1:8766/api'")):
        EdgeConfig.parse(["http://127.0.0.1:8765", "http://127.0.0.1:8766/api"], "127.0.0.1:8080",
                         Path("/tmp/edge"), "1g")
