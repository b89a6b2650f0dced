"""A separate client on the test's session bus, as a desktop widget or media-key daemon would be."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from queue import Empty, Queue
from typing import Any

from jeepney import DBusAddress, MatchRule, Message, message_bus, new_method_call
from jeepney.io.threading import DBusRouter

CALL_TIMEOUT_MS = 10_000


class BusPeer:
    """Another client on the bus. Calls run on a worker while the test's Qt event loop keeps serving the app."""

    def __init__(self, router: DBusRouter, qtbot: Any) -> None:
        self.router = router
        self._qtbot = qtbot
        self._worker = ThreadPoolExecutor(max_workers=1)

    def call(self, destination: str, path: str, interface: str, member: str, signature: str | None = None,
             body: tuple[Any, ...] = ()) -> Message:
        """The reply (a method return or an error message) to one method call."""
        message = new_method_call(DBusAddress(path, bus_name=destination, interface=interface), member,
                                  signature, body)
        future = self._worker.submit(self.router.send_and_get_reply, message, timeout=CALL_TIMEOUT_MS / 1000)
        self._qtbot.waitUntil(future.done, timeout=CALL_TIMEOUT_MS)
        return future.result()

    def in_background(self, work: Callable[[], Any]) -> Any:
        """Run blocking ``work`` (e.g. a subprocess talking to the app) while the event loop keeps running."""
        future = self._worker.submit(work)
        self._qtbot.waitUntil(future.done, timeout=CALL_TIMEOUT_MS)
        return future.result()

    def watch(self, rule: MatchRule) -> Queue[Message]:
        """Messages matching ``rule`` from now on."""
        messages: Queue[Message] = Queue()
        self.router.filter(rule, queue=messages)
        self.router.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT_MS / 1000)
        return messages

    def wait_for(self, messages: Queue[Message], matches: Callable[[Message], bool]) -> Message:
        """The first message (already received or to come) for which ``matches`` is true."""
        found: list[Message] = []

        def arrived() -> bool:
            try:
                while True:
                    message = messages.get_nowait()
                    if matches(message):
                        found.append(message)
                        return True
            except Empty:
                return False

        self._qtbot.waitUntil(arrived, timeout=CALL_TIMEOUT_MS)
        return found[0]

    def close(self) -> None:
        self._worker.shutdown(wait=True)
