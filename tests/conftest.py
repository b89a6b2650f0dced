"""Shared fixtures for Legato's tests, reusable by QA.

- ``demo_data``: a data dir holding a small demo catalog built by the real ingest (session-wide).
- ``live_server``: the real reference server on a loopback port, serving ``demo_data`` (session-wide).
- ``demo_login``: the demo user's name and password.
- ``api_token``: a bearer token for the demo user on ``live_server``.
- ``start_server(data_dir)`` / ``stop_server(server)``: for tests that stop and restart a server themselves.
- ``secret_service``: a real gnome-keyring (Secret Service) on a private D-Bus session bus, and the keyring
  backend that talks to it (session-wide; skips when gnome-keyring-daemon or dbus-daemon is not installed).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from client.bundled import BundledServer

# A 1920x1080 offscreen screen: the default 800x600 one is smaller than the main window's minimum size.
_OFFSCREEN_SCREEN = Path(__file__).with_name("offscreen-screen.json")
os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={_OFFSCREEN_SCREEN}")

DEMO_USER = ("demo", "demo")


@dataclass(frozen=True)
class LiveServer:
    """A running reference server: its base URL, its data dir and the handle that stops it."""

    url: str
    data_dir: Path
    handle: BundledServer


def start_server(data_dir: Path, port: int = 0) -> LiveServer:
    """Start ``legato-server serve`` on 127.0.0.1 and return once it accepts connections."""
    handle = BundledServer(data_dir, port)
    return LiveServer(handle.start(), data_dir, handle)


def stop_server(server: LiveServer) -> None:
    server.handle.stop()


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from server.database import DATABASE_ENV
    from server.demo import build_demo

    data_dir = tmp_path_factory.mktemp("server-data")
    with pytest.MonkeyPatch.context() as patch:  # an SQLite data dir, whichever engine a module set meanwhile
        patch.delenv(DATABASE_ENV, raising=False)
        build_demo(data_dir, albums=2, seconds_per_track=6.0)
    return data_dir


@pytest.fixture(scope="session")
def live_server(demo_data: Path) -> Iterator[LiveServer]:
    server = start_server(demo_data)
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def demo_login() -> tuple[str, str]:
    return DEMO_USER


def demo_user_token(url: str) -> str:
    """A bearer token of the demo user on the server at ``url``."""
    response = httpx.post(f"{url}/auth/login", json={"username": DEMO_USER[0], "password": DEMO_USER[1]})
    response.raise_for_status()
    return str(response.json()["token"])


@pytest.fixture(scope="session")
def api_token(live_server: LiveServer) -> str:
    return demo_user_token(live_server.url)


# -- the OS keystore: a real gnome-keyring over a private D-Bus session bus ---------------------------------

def _secret_service_pid(bus_address: str) -> int:
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")
    with open_dbus_connection(bus=bus_address) as connection:
        reply = connection.send_and_get_reply(
            new_method_call(bus, "GetConnectionUnixProcessID", "s", ("org.freedesktop.secrets",)))
    return int(reply.body[0])


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    missing = [tool for tool in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed: the keystore tests need a real Secret Service "
                    "(apt-get install dbus gnome-keyring)")
    import keyring
    import keyring.core
    from keyring.backends import SecretService, fail

    home = tmp_path_factory.mktemp("keyring-home")
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime),
           "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache")}
    started = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
                             env=env, capture_output=True, text=True, check=True, timeout=30)
    address, dbus_pid = started.stdout.split()[:2]
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    keyring_pid: int | None = None
    previous_address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    try:
        subprocess.run(["gnome-keyring-daemon", "--daemonize", "--unlock", "--components=secrets"],
                       input="pw", env=env, capture_output=True, text=True, check=True, timeout=30)
        keyring.core.init_backend()
        chosen = keyring.get_keyring()
        if not isinstance(chosen, SecretService.Keyring):
            pytest.fail(f"keyring chose {chosen!r} instead of the Secret Service on {address}")
        chosen.get_password("legato-tests", "probe")  # the daemon claims its bus name on first use
        keyring_pid = _secret_service_pid(address)
        yield chosen
    finally:
        for pid in (keyring_pid, int(dbus_pid)):
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        if previous_address is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = previous_address
        # The bus is gone: leave keyring on the honest "no keystore" backend rather than a dead one.
        keyring.set_keyring(fail.Keyring())
