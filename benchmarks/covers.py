"""Benchmark of cover decoding off the UI thread. Not a test: prints figures, then one JSON line.

  python -m benchmarks.covers [--covers 20] [--px 1200]

A worker thread decodes covers (JPEG and PNG, ``--px`` square, to the app's largest view) while the "UI thread"
asks to run every millisecond; the longest it waited is how long a cover froze the app's Python. Legato's decoder
(``client/widgets/cover_decode.py``: FFmpeg through PyAV) against, in the same run, Qt's ``QImage.fromData`` and a
smooth ``scaled`` (what the cache did before), and an idle worker as the floor.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from client.widgets.cover_cache import LARGEST_VIEW_PX
from client.widgets.cover_decode import decode_cover
from tests.helpers.pictures import encoded


def textured(px: int) -> QImage:
    """A cover-sized picture with detail everywhere, so neither encoder gets it for free."""
    picture = QImage(px, px, QImage.Format.Format_RGB32)
    for y in range(0, px, 4):
        for x in range(0, px, 4):
            picture.setPixel(x, y, (x * 7919 + y * 104729) & 0xFFFFFF)
    return picture


def qt_decode(data: bytes, source_px: int) -> QImage:
    image = QImage.fromData(data)
    return image.scaled(source_px, source_px, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                        Qt.TransformationMode.SmoothTransformation)


def decode_all(decode: Callable[[bytes, int], QImage], data: bytes, count: int) -> None:
    for _ in range(count):
        decode(data, LARGEST_VIEW_PX)


def ui_waits(work: Callable[[], None]) -> tuple[float, float, float]:
    """(longest wait, p99 wait, work time) in ms of a thread sleeping 1 ms at a time while ``work`` runs."""
    waits: list[float] = []
    done = threading.Event()

    def ui() -> None:
        last = time.perf_counter()
        while not done.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            waits.append((now - last - 0.001) * 1000)
            last = now

    ticker = threading.Thread(target=ui)
    ticker.start()
    time.sleep(0.05)
    started = time.perf_counter()
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    took = (time.perf_counter() - started) * 1000
    done.set()
    ticker.join()
    ordered = sorted(waits)
    return ordered[-1], ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--covers", type=int, default=20)
    parser.add_argument("--px", type=int, default=1200)
    args = parser.parse_args()
    picture = textured(args.px)
    figures: dict[str, float] = {}
    for image_format in ("JPEG", "PNG"):
        data = encoded(picture, image_format)
        for name, decode in (("legato", decode_cover), ("qt", qt_decode)):
            runs = [ui_waits(functools.partial(decode_all, decode, data, args.covers)) for _ in range(3)]
            longest = statistics.median(run[0] for run in runs)
            p99 = statistics.median(run[1] for run in runs)
            per_cover = statistics.median(run[2] for run in runs) / args.covers
            key = f"{image_format.lower()}_{name}"
            figures |= {f"{key}_ui_wait_max_ms": round(longest, 2), f"{key}_ui_wait_p99_ms": round(p99, 2),
                        f"{key}_decode_ms": round(per_cover, 2)}
            print(f"{image_format} {len(data) // 1024} KB, {name}: {per_cover:.1f} ms a cover; the UI thread "
                  f"waited up to {longest:.1f} ms (p99 {p99:.1f})")
    idle_longest, idle_p99, _ = ui_waits(lambda: time.sleep(0.5))
    figures |= {"idle_ui_wait_max_ms": round(idle_longest, 2), "idle_ui_wait_p99_ms": round(idle_p99, 2)}
    print(f"idle worker: the UI thread waited up to {idle_longest:.1f} ms (p99 {idle_p99:.1f})")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
