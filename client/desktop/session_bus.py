"""The app's link to the D-Bus session bus: messages are read on a reader thread and handled on the UI thread.

Built on jeepney, not QtDBus: PySide6 marshals every Python int as int32 (or uint16 through QDBusArgument), so it
cannot send the int64/uint32 values MPRIS and desktop notifications require. Never blocks the UI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from jeepney import HeaderFields, Message, MessageType
from jeepney.auth import AuthenticationError
from jeepney.io.threading import DBusConnection, ReceiveStopped, open_dbus_connection
from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

SESSION = "SESSION"  # jeepney's name for "the address in $DBUS_SESSION_BUS_ADDRESS"
CLOSE_TIMEOUT_S = 2.0

ReplyHandler = Callable[[Message], None]


class SessionBus(QObject):
    """One connection to a session bus, opened by ``start()`` off the UI thread.

    Signals:
        connected(): the bus accepted us; calls and sends work from now on.
        unavailable(str): there is no session bus (why, in words); the app carries on without it.
        call_received(object): a method call addressed to us (a jeepney Message), on the UI thread.
    """

    connected = Signal()
    unavailable = Signal(str)
    call_received = Signal(object)
    _reply_received = Signal(object)
    _opened = Signal(object)

    def __init__(self, address: str = SESSION) -> None:
        super().__init__()
        self._address = address
        self._connection: DBusConnection | None = None
        self._pending: dict[int, ReplyHandler] = {}
        self._reader: threading.Thread | None = None
        self._closing = threading.Event()
        self._opened.connect(self._on_opened)
        self._reply_received.connect(self._on_reply_received)

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    @property
    def unique_name(self) -> str | None:
        return self._connection.unique_name if self._connection is not None else None

    def start(self) -> None:
        self._reader = threading.Thread(target=self._read, name="session-bus-reader", daemon=True)
        self._reader.start()

    def send(self, message: Message) -> None:
        """Send a reply or a signal; dropped (with a log line) when the bus is gone."""
        if self._connection is None:
            return
        try:
            self._connection.send(message)
        except OSError as exc:
            log.warning("D-Bus send failed: %s", exc)

    def call(self, message: Message, on_reply: ReplyHandler) -> bool:
        """Send a method call; ``on_reply`` gets the return or error message on the UI thread.

        False when not connected (nothing was sent)."""
        if self._connection is None:
            return False
        serial = next(self._connection.outgoing_serial)
        self._pending[serial] = on_reply
        try:
            self._connection.send(message, serial=serial)
        except OSError as exc:
            self._pending.pop(serial, None)
            log.warning("D-Bus call %s failed: %s", message.header.fields.get(HeaderFields.member), exc)
            return False
        return True

    def close(self) -> None:
        self._closing.set()
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()  # wakes the reader, which then ends
        if self._reader is not None:
            self._reader.join(CLOSE_TIMEOUT_S)
        self._pending.clear()

    # -- the reader thread ------------------------------------------------------------------------

    def _read(self) -> None:
        try:
            connection = open_dbus_connection(self._address)
        except (KeyError, OSError, RuntimeError, ValueError, TimeoutError, AuthenticationError) as exc:
            reason = "DBUS_SESSION_BUS_ADDRESS is not set" if isinstance(exc, KeyError) else str(exc)
            log.info("no D-Bus session bus (%s): media controls and notifications are off", reason)
            self.unavailable.emit(reason)
            return
        self._opened.emit(connection)
        while not self._closing.is_set():
            try:
                message = connection.receive()
            except (ReceiveStopped, OSError, ValueError):
                break
            kind = message.header.message_type
            if kind == MessageType.method_call:
                self.call_received.emit(message)
            elif kind in (MessageType.method_return, MessageType.error):
                self._reply_received.emit(message)

    def _on_opened(self, connection: DBusConnection) -> None:
        if self._closing.is_set():
            connection.close()
            return
        self._connection = connection
        self.connected.emit()

    def _on_reply_received(self, message: Message) -> None:
        handler = self._pending.pop(message.header.fields.get(HeaderFields.reply_serial, -1), None)
        if handler is not None:
            handler(message)
