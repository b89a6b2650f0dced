"""Pacing a held render sink from a test: audio is consumed only when the test lets it, block by block."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from player import RenderSink

ADVANCE_FRAMES = 2048
PLAY_TIMEOUT_MS = 15_000

PlayUntil = Callable[[Callable[[], bool]], None]


def pacer(qtbot: Any, sink: RenderSink) -> PlayUntil:
    """``play_until(condition)``: advance ``sink`` a block at a time, events flowing, until ``condition()``."""

    def play_until(condition: Callable[[], bool]) -> None:
        def reached() -> bool:
            if condition():
                return True
            sink.advance(ADVANCE_FRAMES)
            return condition()

        qtbot.waitUntil(reached, timeout=PLAY_TIMEOUT_MS)

    return play_until
