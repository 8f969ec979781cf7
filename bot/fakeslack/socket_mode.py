"""A fake Socket Mode endpoint: a plain ``ws://`` websocket that speaks Slack's envelope protocol.

Slack's flow: the app calls ``apps.connections.open`` with an app-level token, connects a
websocket to the URL it gets, receives ``{"type": "hello"}``, then envelopes
(``{"envelope_id", "type", "payload", "accepts_response_payload"}``) that it acknowledges
with ``{"envelope_id", "payload"?}``. slack_sdk's builtin ``SocketModeClient`` (Bolt's
default) connects without TLS to any port but 443, so ``ws://127.0.0.1:PORT`` works.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

if TYPE_CHECKING:  # named WebSocketServer before websockets 13
    from websockets.sync.server import Server

PING_INTERVAL = 0.25  # seconds of silence before the server pings the app


class FakeSocketMode:
    """Accepts Socket Mode connections and sends them envelopes."""

    def __init__(self, app_id: str = "A0APP") -> None:
        self.app_id = app_id
        self._cond = threading.Condition()
        self._conns: list[ServerConnection] = []
        self._acks: dict[str, dict[str, Any]] = {}
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-socket-mode", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close every connection (their handler threads end) and the listening socket."""
        if self._server is None:
            return
        self._server.shutdown()
        with self._cond:
            conns = list(self._conns)
        for conn in conns:
            conn.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    @property
    def url(self) -> str:
        """A fresh connection URL, as ``apps.connections.open`` returns it."""
        assert self._server is not None, "FakeSocketMode is not started"
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={uuid.uuid4()}&app_id={self.app_id}"

    def wait_connected(self, timeout: float = 5.0) -> None:
        """Block until an app is connected, or raise TimeoutError."""
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._conns), timeout):
                raise TimeoutError(f"no Socket Mode connection within {timeout}s")

    def send_envelope(self, type: str, payload: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        """Send an envelope to the newest connection and return the app's ack message.

        ``type`` is ``"slash_commands"``, ``"interactive"`` or ``"events_api"``.
        Raises TimeoutError when no app is connected or no ack arrives within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        self.wait_connected(timeout)
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": type != "events_api",
        }
        if type == "events_api":
            envelope |= {"retry_attempt": 0, "retry_reason": ""}
        with self._cond:
            conn = self._conns[-1]
        conn.send(json.dumps(envelope))
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"no ack for {type} envelope {envelope_id} within {timeout}s")
            return self._acks.pop(envelope_id)

    def _handle(self, conn: ServerConnection) -> None:
        conn.send(json.dumps({
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "fake-socket-mode", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }))
        with self._cond:
            self._conns.append(conn)
            self._cond.notify_all()
        try:
            while True:
                try:
                    message = json.loads(conn.recv(timeout=PING_INTERVAL))
                except TimeoutError:
                    # Slack pings too; it also wakes slack_sdk's reader, which holds a lock that
                    # SocketModeClient.close() waits for (up to its 3 s socket timeout otherwise).
                    conn.ping()
                    continue
                if isinstance(message, dict) and "envelope_id" in message:
                    with self._cond:
                        self._acks[message["envelope_id"]] = message
                        self._cond.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                self._conns.remove(conn)
