"""A background job's lock across instances (server/fleet_lock.py), on both engines with real processes: while
another process holds it nobody else gets it, it is free again when the holder lets go, and a holder killed with
SIGKILL does not keep it (a killed instance never wedges training or warming)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from server import fleet_lock
from server.database import DATABASE_ENV
from tests.helpers.offline_harness import wait_until

_HOLDER = """
import sys, pathlib
from server import fleet_lock
with fleet_lock.held(pathlib.Path(sys.argv[1]), sys.argv[2]) as mine:
    print("mine" if mine else "theirs", flush=True)
    sys.stdin.read()
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment naming the engine for this process and the holders it starts."""
    environ = dict(os.environ)
    environ.pop(DATABASE_ENV, None)
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        environ[DATABASE_ENV] = url
        monkeypatch.setenv(DATABASE_ENV, url)
    return environ


@contextmanager
def holder(data_dir: Path, job: str, environ: Mapping[str, str]) -> Iterator[subprocess.Popen[str]]:
    """Another process that asked for ``job``'s lock and keeps what it got until its stdin closes."""
    process = subprocess.Popen([sys.executable, "-c", _HOLDER, str(data_dir), job], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env=dict(environ))
    assert process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "mine"
        yield process
    finally:
        if process.poll() is None:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=30)


def mine_now(data_dir: Path, job: str) -> bool:
    with fleet_lock.held(data_dir, job) as mine:
        return mine


def test_only_one_holder_at_a_time_and_free_again_after(engine: dict[str, str], tmp_path: Path) -> None:
    with holder(tmp_path, "recs", engine):
        assert not mine_now(tmp_path, "recs")
        assert mine_now(tmp_path, "warm")  # another job's lock is another lock
    assert mine_now(tmp_path, "recs")


def test_a_killed_holder_leaves_the_lock_free(engine: dict[str, str], tmp_path: Path) -> None:
    with holder(tmp_path, "recs", engine) as process:
        assert not mine_now(tmp_path, "recs")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        # PostgreSQL ends the dead client's session (and its locks) as soon as it sees the socket close.
        wait_until(lambda: mine_now(tmp_path, "recs"), "the lock free after its holder was killed", 10)


def test_a_job_name_is_a_word(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="short lower-case word"), fleet_lock.held(tmp_path, "../../etc"):
        pass
