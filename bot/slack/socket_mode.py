"""Socket Mode with the same guard as ``/slack/events``.

Bolt's own handler passes each envelope's payload to the app unchecked, so a payload of the
wrong shape ends in a traceback inside Bolt. And it leaves an envelope unacknowledged when
Bolt's answer is not a 200 (no listener matched, say), so Slack sends it again and shows the
person an error; slack_sdk itself logs a traceback for a payload that is not an object. Here
every envelope is acknowledged once: junk is answered empty with one rate-limited log line, as
the HTTP guard does with a 400.
"""

from __future__ import annotations

import logging
from time import time
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.slack.request_guard import bad_shape, payload_problem

log = logging.getLogger("coach.slack")


class GuardedSocketModeClient(SocketModeClient):
    """Acknowledges an envelope whose payload is not an object, which slack_sdk would log as a traceback."""

    def run_message_listeners(self, message: dict[str, Any], raw_message: str) -> None:
        payload, envelope_id = message.get("payload"), message.get("envelope_id")
        if isinstance(envelope_id, str) and "payload" in message and not isinstance(payload, dict):
            bad_shape.warn("acknowledged and dropped a Socket Mode envelope that is not what Slack sends: "
                           "payload is not a JSON object")
            self.send_socket_mode_response(SocketModeResponse(envelope_id=envelope_id))
            return
        super().run_message_listeners(message, raw_message)


class GuardedSocketModeHandler(SocketModeHandler):
    def __init__(self, app: App, app_token: str) -> None:  # Bolt's own, with the guarded client
        self.app, self.app_token = app, app_token
        self.client = GuardedSocketModeClient(app_token=app_token, logger=app.logger, web_client=app.client,
                                              proxy=app.client.proxy)
        self.client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        start = time()
        problem = envelope_problem(req.payload)
        if problem:
            bad_shape.warn(f"acknowledged and dropped a Socket Mode envelope that is not what Slack sends: {problem}")
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        answer = run_bolt_app(self.app, req)
        if answer.status != 200:  # acknowledged all the same: a retry would get the same answer
            log.info("Socket Mode %s envelope answered %s", req.type, answer.status)
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        send_response(client, req, answer, start)



def envelope_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return "payload is not a JSON object"
    return payload_problem(payload)


def socket_mode_handler(app: App, app_token: str) -> GuardedSocketModeHandler:
    return GuardedSocketModeHandler(app, app_token)
