"""The bundled reference server as a child process: demo catalog on first run, then serve on loopback.

Talks to the server only through its public entry point (``python -m server``) and the URL it announces.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

URL_ANNOUNCEMENT = "LEGATO_SERVER_URL="
DEMO_ALBUMS = 4


def _drain(stream: IO[str]) -> None:
    for _ in stream:
        pass


class BundledServerError(RuntimeError):
    """The bundled server could not be prepared or started."""


class BundledServer:
    """Owns the server process started for this app session."""

    def __init__(self, data_dir: Path, port: int = 0) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url: str | None = None
        self._process: subprocess.Popen[str] | None = None

    @property
    def has_catalog(self) -> bool:
        return (self.data_dir / "catalog.db").exists()

    def prepare_demo(self, progress: Callable[[str], None]) -> None:
        """Build the demo catalog (synthesised music, real ingest) unless one exists."""
        if self.has_catalog:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "server", "demo", "--data", str(self.data_dir),
                   "--albums", str(DEMO_ALBUMS)]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) as process:
            assert process.stdout is not None
            output = []
            for line in process.stdout:
                output.append(line)
                progress(line.strip())
        if process.returncode != 0:
            raise BundledServerError("building the demo catalog failed:\n" + "".join(output[-10:]))

    def start(self) -> str:
        """Start serving on 127.0.0.1 and return the URL once the server accepts connections."""
        command = [sys.executable, "-m", "server", "serve", "--data", str(self.data_dir),
                   "--host", "127.0.0.1", "--port", str(self.port)]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.startswith(URL_ANNOUNCEMENT):
                self.url = line[len(URL_ANNOUNCEMENT):].strip()
                # Keep reading what the server prints (access log) so its pipe never fills up.
                threading.Thread(target=_drain, args=(self._process.stdout,), daemon=True).start()
                return self.url
        code = self._process.wait()
        raise BundledServerError(f"the bundled server exited with code {code} before it was ready")

    def wait(self) -> int:
        """Block until the server process ends; returns its exit code."""
        if self._process is None:
            raise BundledServerError("the bundled server was never started")
        return self._process.wait()

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
