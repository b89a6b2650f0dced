"""While an app holds it, cyclic garbage is collected on the UI thread, never on a worker that happens to allocate."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from client.app import App
from client.ui_thread_gc import collect_due, freeze_started_app, hold_ui_thread_gc


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


@contextmanager
def _thresholds(*low: int) -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(*low)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


def test_the_oldest_generation_is_collected_only_once_a_quarter_more_has_survived_into_it(qtbot) -> None:
    release, kept = hold_ui_thread_gc(), []

    def rounds(count: int, survivors: int) -> None:
        for _ in range(count):
            kept.extend([] for _ in range(survivors))
            collect_due()

    try:
        with _thresholds(100, 1, 1):  # the oldest generation is due by count at every other collect_due
            long_lived = len(gc.get_objects(2))
            full = _full_collections()
            rounds(20, long_lived // 400)  # 5 % more: CPython's automatic rule would not collect it all yet
            assert _full_collections() == full
            rounds(6, long_lived // 6)  # then a whole more: it is
            assert _full_collections() > full
    finally:
        release()


def test_what_the_start_made_is_out_of_a_full_collections_sight_until_the_last_release(qtbot) -> None:
    release = hold_ui_thread_gc()
    freed_on: list[int] = []
    try:
        _cycle_freed_on(freed_on)
        freeze_started_app()
        assert gc.get_freeze_count() > 0 and len(gc.get_objects(2)) < gc.get_freeze_count()
        gc.collect()
        assert freed_on == [], "a frozen cycle was collected"
    finally:
        release()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert freed_on == [threading.get_ident()]
