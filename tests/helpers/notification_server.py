"""A stand-in for the desktop's notification server on a private session bus (the peer, not our code): it owns
org.freedesktop.Notifications and records each Notify call."""

from __future__ import annotations

import threading
from typing import Any

from jeepney import DBusNameFlags, HeaderFields, Message, MessageType, message_bus, new_method_return
from jeepney.io.threading import ReceiveStopped, open_dbus_connection


class NotificationServer:
    """Owns org.freedesktop.Notifications and answers Notify with an id, as a desktop would."""

    def __init__(self, address: str) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self._connection = open_dbus_connection(address)
        reply = self._send_and_wait(message_bus.RequestName("org.freedesktop.Notifications",
                                                            DBusNameFlags.do_not_queue))
        assert reply.body == (1,), "another notification server owns the name"
        self._next_id = 41
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _send_and_wait(self, message: Message) -> Message:
        serial = next(self._connection.outgoing_serial)
        self._connection.send(message, serial=serial)
        while True:
            reply = self._connection.receive(timeout=10)
            if reply.header.fields.get(HeaderFields.reply_serial) == serial:
                return reply

    def _serve(self) -> None:
        while True:
            try:
                message = self._connection.receive()
            except (ReceiveStopped, OSError):
                return
            if (message.header.message_type == MessageType.method_call
                    and message.header.fields.get(HeaderFields.member) == "Notify"):
                replaces_id = message.body[1]
                if replaces_id == 0:
                    self._next_id += 1
                self.calls.append(message.body)
                self._connection.send(new_method_return(message, "u", (replaces_id or self._next_id,)))

    def close(self) -> None:
        self._connection.close()
        self._thread.join(5)
