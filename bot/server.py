"""HTTP mode: Bolt behind a production WSGI server (waitress), plus /healthz."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot.db import migrate
from bot.deps import Deps
from bot.slack import request_guard

log = logging.getLogger("coach.server")
EVENTS_PATH = "/slack/events"


def health(deps: Deps) -> tuple[bool, dict[str, Any]]:
    """Ready when the database answers and its schema is current."""
    try:
        with deps.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        current = migrate.current_revision(deps.engine)
    except Exception as e:  # any database failure means "not ready", never a crash
        return False, {"ok": False, "database": f"unreachable: {type(e).__name__}"}
    head = migrate.head_revision()
    if current != head:
        return False, {"ok": False, "database": f"schema {current}, expected {head}: run coach init"}
    return True, {"ok": True, "database": "ok", "schema": current}


def wsgi_app(app: App, deps: Deps) -> Callable[..., Iterable[bytes]]:
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    secret = deps.settings.slack_signing_secret

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            ok, body = health(deps)
            data = json.dumps(body).encode()
            start_response("200 OK" if ok else "503 Service Unavailable",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
        if path == EVENTS_PATH and environ.get("REQUEST_METHOD") == "POST":
            refusal, environ = _guarded(environ, secret)
            if refusal is not None:
                status, headers, data = request_guard.respond(refusal)
                start_response(status, headers)
                return [data]
        return slack(environ, start_response)

    return application


def _guarded(environ: dict[str, Any], secret: str) -> tuple[request_guard.Refusal | None, dict[str, Any]]:
    """Read the body once, check it, and hand Bolt an environ that reads the same bytes."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length < 0 or length > request_guard.MAX_BODY:
        return request_guard.Refusal(400, "body too large" if length > 0 else "bad Content-Length"), environ
    body = environ["wsgi.input"].read(length) if length else b""
    headers = {"x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
               "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE"),
               "content-type": environ.get("CONTENT_TYPE")}
    # The wall clock: Slack signs with its own real time, not the schedule's clock.
    refusal = request_guard.check(body, {k: v for k, v in headers.items() if v is not None}, secret,
                                  now=time.time())
    return refusal, {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}


def make_server(app: App, deps: Deps, *, host: str, port: int, threads: int = 8) -> Any:
    """A waitress server (not yet running); ``.effective_port`` tells the bound port."""
    return create_server(wsgi_app(app, deps), host=host, port=port, threads=threads, ident="pipeline-coach")


class ServerThread:
    """Run a waitress server on a background thread and stop it cleanly.

    The channels are closed on the server's own loop (through its trigger), so the
    loop ends at once instead of at its next one-second select timeout.
    """

    def __init__(self, server: Any) -> None:
        self.server = server
        self._stopping = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="coach-http")

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.server.run()
        except (OSError, ValueError):
            if not self._stopping:
                raise

    def stop(self) -> None:
        self._stopping = True
        trigger = self.server.trigger

        def close(trigger_too: bool) -> Callable[[], None]:
            def close_channels() -> None:  # runs on the server's own loop, which ends once the map is empty
                for channel in list(self.server._map.values()):
                    if trigger_too or channel is not trigger:
                        with contextlib.suppress(OSError):  # already gone: it is being closed anyway
                            channel.close()
            return close_channels

        def on_loop(thunk: Callable[[], None]) -> None:
            try:
                if self._thread.is_alive():
                    trigger.pull_trigger(thunk)
                    return
            except OSError:  # the loop has already closed its trigger
                pass
            thunk()

        # Connections first, then the request threads, and only then the trigger: a request thread
        # that finishes pulls the trigger to have its answer written, so it must not find it closed.
        on_loop(close(trigger_too=False))
        self.server.task_dispatcher.shutdown()
        on_loop(close(trigger_too=True))
        self._thread.join(timeout=5)
