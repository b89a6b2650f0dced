"""An edge cache in front of the origin: writes an nginx configuration and runs Debian's nginx in the foreground.

It caches only public, immutable bytes (/files/* by 1 MiB slices, /albums/*/cover) and passes everything else
through untouched; it never writes outside its cache dir (pid, temp files and logs live there too). Given several
origins (server instances on one database), it is also their one address: each request goes to the instance
with the fewest open connections (event streams stay open for hours), and one that stops answering is left out
for a few seconds while the others take its requests.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from durable import write_atomically
from server.exceptions import EdgeError
from server.origin import CHUNK_SIZE_BYTES

SLICE_BYTES = 16 * CHUNK_SIZE_BYTES  # a whole number of chunks, so one slice never splits a chunk
EDGE_ANNOUNCEMENT = "LEGATO_EDGE_URL"
CONFIG_NAME = "nginx.conf"
ACCESS_LOG = "logs/access.log"
_READY_TIMEOUT_S = 15.0
_TEMPLATE = """\
# Written by `legato-server edge`; rewritten at each start.
{user}pid {root}/nginx.pid;
worker_processes 2;
error_log {root}/logs/error.log warn;
events {{ worker_connections 8192; }}
http {{
    client_body_temp_path {root}/temp/body;
    proxy_temp_path {root}/temp/proxy;
    fastcgi_temp_path {root}/temp/fastcgi;
    uwsgi_temp_path {root}/temp/uwsgi;
    scgi_temp_path {root}/temp/scgi;
    log_format edge '$msec $request_method $uri "$http_range" $status $upstream_cache_status $request_time';
    access_log {root}/{access_log} edge;
    client_max_body_size 16m;
    proxy_cache_path {root}/cache levels=1:2 keys_zone=legato_edge:32m max_size={size} inactive=30d
                     use_temp_path=off;
    upstream legato_origin {{
        least_conn;
{servers}        keepalive 64;
    }}
    server {{
        listen {listen};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        # Ciphertext: each slice is fetched from the origin once, concurrent misses wait for that one fetch,
        # and a cached slice is served even when the origin errs or is gone.
        location ~ ^/files/[0-9]+$ {{
            slice {slice_bytes};
            proxy_set_header Range $slice_range;
            proxy_cache legato_edge;
            proxy_cache_key $uri$slice_range;
            proxy_cache_valid 200 206 30d;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 30s;
            proxy_cache_lock_age 30s;
            proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
            proxy_cache_background_update on;
            add_header X-Cache-Status $upstream_cache_status always;
            proxy_pass http://legato_origin;
        }}
        location ~ ^/albums/[0-9]+/cover$ {{
            proxy_cache legato_edge;
            proxy_cache_key $uri;
            proxy_cache_valid 200 1d;
            proxy_cache_lock on;
            proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
            add_header X-Cache-Status $upstream_cache_status always;
            proxy_pass http://legato_origin;
        }}
        # Everything else (auth, manifests, licences, playlists and their event streams) as the origin answers it.
        location / {{
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_pass http://legato_origin;
        }}
    }}
}}
"""


@dataclass(frozen=True)
class EdgeConfig:
    """What one edge needs: the origins' host:port (one or more instances), its own host:port, its folder and its
    cache's bound."""

    origins: tuple[str, ...]
    listen: str
    cache_dir: Path
    size: str = "10g"

    @classmethod
    def parse(cls, origin_urls: list[str], listen: str, cache_dir: Path, size: str) -> EdgeConfig:
        """Checked arguments of ``legato-server edge``; EdgeError naming the one that is wrong."""
        origins = tuple(dict.fromkeys(_origin(url) for url in origin_urls))
        if not origins:
            raise EdgeError("an edge needs at least one --origin")
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise EdgeError(f"--listen {listen!r} must be HOST:PORT with a port 1..65535")
        if not re.fullmatch(r"[0-9]+[kmg]?", size.lower()):
            raise EdgeError(f"--size {size!r} must be a number with k, m or g (e.g. 10g)")
        return cls(origins, f"{_host(host.strip('[]'))}:{port}", cache_dir.resolve(), size.lower())

    @property
    def url(self) -> str:
        return f"http://{self.listen}"

    def render(self) -> str:
        # As root, nginx's workers would drop to "nobody" and could not write the cache dir the master made.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        return _TEMPLATE.format(user=user, root=self.cache_dir, access_log=ACCESS_LOG, size=self.size,
                                servers="".join(f"        server {origin} max_fails=1 fail_timeout=5s;\n"
                                                for origin in self.origins),
                                listen=self.listen, slice_bytes=SLICE_BYTES)

    def write(self) -> Path:
        """The folders and the configuration file, written atomically; its path."""
        for folder in ("cache", "logs", "temp"):
            (self.cache_dir / folder).mkdir(parents=True, exist_ok=True)
        path = self.cache_dir / CONFIG_NAME
        write_atomically(path, self.render().encode())
        return path


def nginx_binary() -> str:
    """Debian's nginx; EdgeError saying how to install it when it is missing."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).is_file()), None)
    if found is None:
        raise EdgeError("nginx is not installed: run `apt-get install nginx` (Debian's build has the slice module)")
    return found


def nginx_command(config: EdgeConfig, *extra: str) -> list[str]:
    return [nginx_binary(), "-p", str(config.cache_dir), "-c", str(config.cache_dir / CONFIG_NAME), "-e", "stderr",
            *extra]


def run(config: EdgeConfig) -> int:
    """Write the configuration, check it, run nginx in the foreground until it ends or this process is told to
    stop (SIGTERM/SIGINT, passed on to nginx); prints LEGATO_EDGE_URL=<url> once the edge accepts connections."""
    config.write()
    check = subprocess.run(nginx_command(config, "-t", "-q"), capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise EdgeError(f"nginx refused the configuration it was given:\n{check.stderr.strip()}")
    process = subprocess.Popen(nginx_command(config, "-g", "daemon off;"))

    def stop(signum: int, frame: FrameType | None) -> None:
        process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if not _wait_listening(config, process):
        process.terminate()
        process.wait()
        return 1
    print(f"{EDGE_ANNOUNCEMENT}={config.url}", flush=True)
    return process.wait()


def _wait_listening(config: EdgeConfig, process: subprocess.Popen[bytes]) -> bool:
    host, _, port = config.listen.rpartition(":")
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)  # polling a port nginx is about to open: there is no event to wait on
    print(f"legato-server: nginx did not start listening on {config.listen}; see {config.cache_dir}/logs",
          file=sys.stderr)
    return False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise EdgeError(f"--origin {url!r} must be an http://HOST:PORT address with no path")
    return f"{_host(parts.hostname)}:{parts.port or 80}"


def _host(name: str) -> str:
    return f"[{name}]" if ":" in name else name
