"""While an app holds it, cyclic garbage is collected on the UI thread, never on a worker that happens to allocate."""

from __future__ import annotations

import gc
import threading
import weakref
from pathlib import Path

from client.app import App
from client.ui_thread_gc import hold_ui_thread_gc


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
