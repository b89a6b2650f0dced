"""While an app holds it, cyclic garbage is collected on the UI thread, never on a worker that happens to allocate."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import weakref
from pathlib import Path

from client.app import App
from client.ui_thread_gc import hold_ui_thread_gc

ROOT = Path(__file__).resolve().parents[2]


class _Cycle:
    """Garbage only the cyclic collector frees: it refers to itself."""

    def __init__(self) -> None:
        self.me = self


def _cycle_freed_on(freed_on: list[int]) -> None:
    """Make a cycle and drop it; ``freed_on`` gets the id of the thread that frees it."""
    cycle = _Cycle()
    weakref.finalize(cycle, lambda: freed_on.append(threading.get_ident()))


def _allocate_on_a_worker() -> list[list[int]]:
    """As a worker does: enough new containers, kept, to pass generation 0's threshold, and the next ones', many
    times (what is freed again at once counts for nothing, there as in automatic collection)."""
    kept: list[list[int]] = []
    worker = threading.Thread(target=lambda: kept.extend([] for _ in range(200_000)))
    worker.start()
    worker.join()
    assert len(kept) == 200_000
    return kept


def test_a_cycle_dropped_while_a_worker_allocates_is_freed_on_the_ui_thread(qtbot) -> None:
    release = hold_ui_thread_gc()
    try:
        assert not gc.isenabled()
        freed_on: list[int] = []
        _cycle_freed_on(freed_on)
        allocated = _allocate_on_a_worker()
        assert freed_on == [], "a collection ran on the worker (or on no timer)"
        qtbot.waitUntil(lambda: freed_on != [], timeout=5_000)
        assert freed_on == [threading.get_ident()]
        del allocated
    finally:
        release()
    assert gc.isenabled()


def test_holds_nest_and_the_last_release_puts_automatic_collection_back(qtbot) -> None:
    first, second = hold_ui_thread_gc(), hold_ui_thread_gc()
    first()
    first()  # a second call of the same release does not release the other hold
    assert not gc.isenabled()
    second()
    assert gc.isenabled()
    freed_on: list[int] = []
    _cycle_freed_on(freed_on)
    _allocate_on_a_worker()
    assert freed_on != [], "automatic collection did not come back"


def test_an_app_collects_on_the_ui_thread_from_its_making_until_it_stops(qtbot, tmp_path: Path) -> None:
    app = App(tmp_path / "data", None, "http://127.0.0.1:9", "demo", "demo", tmp_path / "heard.wav")  # not started
    qtbot.addWidget(app.connecting)
    assert not gc.isenabled()
    app.stop()
    assert gc.isenabled()


# In a fresh interpreter: what the collector remembers (a hold, a freeze, the last full collection's size) is
# process-wide, and an earlier test's app may still hold it.
_QUARTER_RULE = """
import gc
from PySide6.QtCore import QCoreApplication
from client.ui_thread_gc import collect_due, hold_ui_thread_gc

qt, release, kept = QCoreApplication([]), hold_ui_thread_gc(), []
gc.set_threshold(100, 1, 1)  # the oldest generation is due by count at every other collect_due


def rounds(count, survivors):
    for _ in range(count):
        kept.extend([] for _ in range(survivors))
        collect_due()


long_lived, full = len(gc.get_objects(2)), gc.get_stats()[2]["collections"]
rounds(20, long_lived // 400)  # 5 % more: CPython's automatic rule would not collect it all yet
after_few = gc.get_stats()[2]["collections"]
rounds(6, long_lived // 6)  # then a whole more: it would
print(full, after_few, gc.get_stats()[2]["collections"])
"""

_FREEZE = """
import gc, weakref
from PySide6.QtCore import QCoreApplication
from client.ui_thread_gc import freeze_started_app, hold_ui_thread_gc


class Cycle:
    def __init__(self):
        self.me = self


qt, release, freed = QCoreApplication([]), hold_ui_thread_gc(), []
cycle = Cycle()
weakref.finalize(cycle, lambda: freed.append("freed"))
del cycle
freeze_started_app()
frozen = gc.get_freeze_count()
gc.collect()
print(frozen > 0, freed == [])  # frozen: a full collection does not see the cycle
release()
print(gc.get_freeze_count(), gc.collect() >= 0 and freed == ["freed"])  # the last release unfreezes it
"""


def _run(script: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120,
                          cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_oldest_generation_is_collected_only_once_a_quarter_more_has_survived_into_it() -> None:
    full, after_few, after_many = (int(n) for n in _run(_QUARTER_RULE))
    assert after_few == full
    assert after_many > full


def test_what_the_start_made_is_out_of_a_full_collections_sight_until_the_last_release() -> None:
    assert _run(_FREEZE) == ["True", "True", "0", "True"]
