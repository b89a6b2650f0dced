"""A real nginx edge started by ``legato-server edge`` on a free loopback port, and the origin's request log read
back (LEGATO_REQUEST_LOG), for tests and benchmarks that count what reached the origin."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ANNOUNCEMENT = "LEGATO_EDGE_URL="
_STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _drain(stream: IO[str]) -> None:
    for _ in stream:
        pass


@contextmanager
def running_edge(origin_urls: Sequence[str], cache_dir: Path, size: str = "1g") -> Iterator[str]:
    """``legato-server edge`` in front of the origins (one or several instances); its URL once it accepts
    connections, stopped after."""
    origins = [argument for url in origin_urls for argument in ("--origin", url)]
    command = [sys.executable, "-m", "server", "edge", *origins, "--listen", f"127.0.0.1:{free_port()}",
               "--cache-dir", str(cache_dir), "--size", size]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    url = None
    for line in process.stdout:
        if line.startswith(ANNOUNCEMENT):
            url = line[len(ANNOUNCEMENT):].strip()
            break
    if url is None:
        raise AssertionError(f"the edge exited with code {process.wait()} before it listened")
    threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
    try:
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class OriginRequest:
    """One line of the origin's request log."""

    at: float
    method: str
    path: str
    byte_range: str
    status: int


def origin_requests(log: Path, path_prefix: str = "") -> list[OriginRequest]:
    """The requests the origin answered so far whose path starts with ``path_prefix``."""
    if not log.exists():
        return []
    found = []
    for line in log.read_text().splitlines():
        at, method, path, byte_range, status = line.split(" ")
        if path.startswith(path_prefix):
            found.append(OriginRequest(float(at), method, path, byte_range, int(status)))
    return found
