"""`python -m player render --out OUT.wav [--rate R] [--format float32|pcm16] FILE...`: renders a
queue through the engine's own pipeline (gapless, trimmed) to a WAV file, faster than real time."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from player.engine import Engine
from player.events import Event, PlaybackError, QueueFinished, QueueItem, StateChanged
from player.sinks import RenderSink
from player.source import FileSource


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m player", description="Legato's audio engine.")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render a queue of audio files to one WAV, gapless")
    render.add_argument("--out", required=True, type=Path, help="the WAV file to write")
    render.add_argument("--rate", type=int, help="output sample rate (default: the first track's)")
    render.add_argument("--format", choices=("float32", "pcm16"), default="float32", help="WAV sample format")
    render.add_argument("files", nargs="+", type=Path, help="audio files, played in this order")
    args = parser.parse_args(argv)
    return _render(args.out, args.rate, args.format, args.files)


def _render(out: Path, rate: int | None, subtype: str, files: Sequence[Path]) -> int:
    finished = threading.Event()
    errors: list[str] = []

    def listen(event: Event) -> None:
        if isinstance(event, PlaybackError):
            errors.append(event.message)
            print(f"skipped: {event.message}", file=sys.stderr)
        elif isinstance(event, QueueFinished) or event == StateChanged("stopped"):
            finished.set()

    sink = RenderSink(out, rate, "pcm16" if subtype == "pcm16" else "float32")
    engine = Engine(sink, listen)
    engine.set_queue([QueueItem(str(path), partial(FileSource, path)) for path in files])
    engine.play()
    finished.wait()
    engine.close()
    print(f"wrote {sink.frames_written} frames to {out}")
    return 1 if len(errors) == len(files) else 0


if __name__ == "__main__":
    sys.exit(main())
