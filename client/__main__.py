"""``legato``: start the desktop app on the bundled server (default) or on a server given by URL."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from client.bundled import BundledServer
from client.datadir import DATA_DIR_ENV, resolve_data_dir


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="legato", description="Legato, a desktop music player.")
    parser.add_argument("--data-dir", help=f"where Legato keeps its data (default: ${DATA_DIR_ENV} "
                                           "or the platform's user data dir)")
    parser.add_argument("--server", metavar="URL",
                        help="use this Legato server instead of starting the bundled one")
    parser.add_argument("--edge", metavar="URL",
                        help="fetch audio and covers through this edge cache (default: Settings, else one the "
                             "server advertises)")
    parser.add_argument("--user", help="account name (default: the one in Settings, at first demo)")
    parser.add_argument("--password", help="account password (default: the one remembered in the OS keystore; "
                                           "demo on the bundled server)")
    parser.add_argument("--port", type=int, default=0,
                        help="port of the bundled server on 127.0.0.1 (default: any free port)")
    parser.add_argument("--server-only", action="store_true",
                        help="run only the bundled server (no window), e.g. on a machine with no display")
    parser.add_argument("--audio-out", metavar="WAV", type=Path,
                        help="render what plays into this WAV file instead of the sound device")
    return parser.parse_args(argv)


def has_display() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def serve_only(server: BundledServer) -> int:
    server.prepare_demo(lambda line: print(line, flush=True))
    url = server.start()
    print(f"Legato server running at {url} (user demo, password demo). Press Ctrl+C to stop.", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        print("stopping")
    finally:
        server.stop()
    return 0


def offer_server_only(server: BundledServer) -> int:
    print("Legato: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the window cannot open.\n"
          "You can run the bundled server alone and connect to it from another machine's Legato:\n"
          "  ./run --server-only")
    if sys.stdin.isatty() and input("Start the server only now? [Y/n] ").strip().lower() in ("", "y", "yes"):
        return serve_only(server)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    data_dir = resolve_data_dir(args.data_dir)
    bundled = BundledServer(data_dir / "server", args.port)
    if args.server_only:
        return serve_only(bundled)
    if not has_display():
        return offer_server_only(bundled)

    from client.app import run_app

    return run_app(data_dir, bundled if args.server is None else None, args.server, args.user, args.password,
                   args.audio_out, edge_url=args.edge)


if __name__ == "__main__":
    sys.exit(main())
