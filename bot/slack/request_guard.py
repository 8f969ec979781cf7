"""What reaches ``/slack/events`` is checked before Bolt sees it.

Bolt parses the body before it checks the signature, and reads a payload's fields without
asking their type, so junk (a timestamp of ``abc``, a payload that is ``null`` or a list,
``actions`` that is a string, 100,000 nested ``[``) ends in a 500 and a traceback, even
unsigned. Here a request Slack did not sign is a 401 and a signed body that is not the shape
Slack sends is a 400; nothing is logged but one rate-limited line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from slack_bolt.context import BoltContext
from slack_bolt.request.internals import build_context, parse_body
from slack_bolt.request.payload_utils import (
    to_action,
    to_command,
    to_event,
    to_message,
    to_options,
    to_shortcut,
    to_step,
    to_view,
)

log = logging.getLogger("coach.slack")

MAX_BODY = 1 << 20  # Slack's payloads are far smaller; a view with 100 blocks is about 100 KB
MAX_AGE = 60 * 5  # seconds: Slack's own rule for a replayed request


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str


class _Once:
    """One log line per ``every`` seconds, counting what it held back (a flood stays one line)."""

    def __init__(self, every: float = 60.0) -> None:
        self.every, self._last, self._held = every, 0.0, 0
        self._lock = threading.Lock()

    def warn(self, message: str) -> None:
        with self._lock:
            now = time.monotonic()
            if self._last and now - self._last < self.every:
                self._held += 1
                return
            held, self._held, self._last = self._held, 0, now
        log.warning("%s%s", message, f" ({held} more since the last line)" if held else "")


_bad_signature = _Once()
bad_shape = _Once()


def signed(body: bytes, timestamp: str | None, signature: str | None, secret: str, *, now: float) -> bool:
    """Slack's v0 signature over this body, made less than five minutes ago.

    ``now`` is the wall clock (``time.time()``): Slack stamps the request with its own real time.
    """
    if not timestamp or not signature or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs(now - int(timestamp)) > MAX_AGE:
        return False
    mac = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return hmac.compare_digest("v0=" + mac.hexdigest(), signature)


def check(body: bytes, headers: dict[str, str], secret: str, *, now: float) -> Refusal | None:
    """None if Bolt may have the request; else the answer to give instead. ``headers`` lower-case."""
    if not signed(body, headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature"), secret,
                  now=now):
        _bad_signature.warn("refused a request to /slack/events with a missing or wrong signature: "
                            "if Slack sent it, check SLACK_SIGNING_SECRET (Slack app settings → Basic Information)")
        return Refusal(401, "invalid request")
    problem = shape_problem(body, headers.get("content-type"))
    if problem:
        bad_shape.warn(f"refused a signed request that is not what Slack sends: {problem}")
        return Refusal(400, problem)
    return None


def shape_problem(body: bytes, content_type: str | None) -> str | None:
    """What makes this body unlike anything Slack sends, or None."""
    if len(body) > MAX_BODY:
        return "body too large"
    try:
        text = body.decode("utf-8")
        parsed = parse_body(text, (content_type or "").split(";")[0].strip() or None)
    except (ValueError, RecursionError):  # invalid UTF-8 or JSON, or nesting Python cannot follow
        return "body is not valid JSON or form data"
    if not isinstance(parsed, dict):
        return "payload is not a JSON object"
    return payload_problem(parsed)


# The fields the app reads, and the type each must have when present.
_OBJECTS = ("user", "team", "enterprise", "channel", "container", "message", "event", "view", "state",
            "function_data")
_STRINGS = ("type", "user_id", "team_id", "channel_id", "command", "text", "trigger_id", "response_url",
            "callback_id", "api_app_id", "token")


def payload_problem(body: dict[str, Any]) -> str | None:
    for key in _OBJECTS:
        if key in body and not isinstance(body[key], dict | None):
            return f"{key} is not an object"
    if "authorizations" in body and not isinstance(body["authorizations"], list | None):
        return "authorizations is not a list"
    for key in _STRINGS:
        if key in body and not isinstance(body[key], str | None):
            return f"{key} is not a string"
    if body.get("type") in ("block_actions", "interactive_message"):
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return "actions is not a list of objects"
        for a in actions:
            for key in ("action_id", "block_id", "value", "type"):
                if key in a and not isinstance(a[key], str | None):
                    return f"an action's {key} is not a string"
    view = body.get("view")
    if isinstance(view, dict):
        for key in ("callback_id", "private_metadata", "id", "hash"):
            if key in view and not isinstance(view[key], str | None):
                return f"view.{key} is not a string"
        if _bad_state(view.get("state")):
            return "view.state is not Slack's values object"
    elif body.get("type") in ("view_submission", "view_closed"):
        return "view is not an object"
    if _bad_state(body.get("state")):
        return "state is not Slack's values object"
    try:  # what Bolt itself reads to route the request, read the way it reads it
        build_context(BoltContext(), body)
        for read in (to_action, to_command, to_event, to_message, to_options, to_shortcut, to_step, to_view):
            read(body)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        return "payload is missing what its type needs"
    return None


def _bad_state(state: Any) -> bool:
    """A form's state must be ``{"values": {block_id: {action_id: {...}}}}``."""
    if state is None:
        return False
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(state, dict) or not isinstance(values, dict | None):
        return True
    return any(not isinstance(block, dict) or not all(isinstance(v, dict) for v in block.values())
               for block in (values or {}).values())


def respond(refusal: Refusal) -> tuple[str, list[tuple[str, str]], bytes]:
    """A WSGI status line, headers and body for a refusal."""
    data = json.dumps({"error": refusal.reason}).encode()
    status = {400: "400 Bad Request", 401: "401 Unauthorized"}[refusal.status]
    return status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))], data
