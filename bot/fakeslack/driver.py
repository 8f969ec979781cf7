"""Drive the real app over HTTP like Slack does: signed requests in, Web API calls out to a fake.

Used by the tests, ``coach demo`` and ``coach shell``: all three reach the app
through its real HTTP endpoint, with Slack's signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

SECRET = "test-signing-secret"  # the tests' and the embedded workspace's signing secret


def sign(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    sig = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


@dataclass
class Answer:
    status: int
    body: str
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackSender:
    """Posts Slack-shaped, signed requests to the app's /slack/events."""

    def __init__(self, url: str, fake: Any) -> None:
        self.url = url
        self.fake = fake
        self._n = 0
        self._lock = threading.Lock()

    def post(self, body: bytes, content_type: str, headers: dict[str, str] | None = None,
             signed: bool = True) -> Answer:
        hdrs = {"Content-Type": content_type, **(sign(body) if signed else {}), **(headers or {})}
        req = urllib.request.Request(self.url, data=body, headers=hdrs, method="POST")
        start = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return Answer(r.status, r.read().decode(), time.monotonic() - start)
        except urllib.error.HTTPError as e:
            return Answer(e.code, e.read().decode(), time.monotonic() - start)

    def _trigger(self) -> str:
        with self._lock:
            self._n += 1
            return f"{self._n}.trigger"

    def command(self, command: str, text: str, *, user: str, channel: str = "C0GENERAL") -> tuple[Answer, str]:
        """Send a slash command; returns the answer and the response_url it carried."""
        response_url = self.fake.response_url()
        form = {
            "token": "x", "team_id": "T0TEAM", "team_domain": "acme", "channel_id": channel,
            "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": command,
            "text": text, "api_app_id": "A0APP", "response_url": response_url, "trigger_id": self._trigger(),
        }
        body = urllib.parse.urlencode(form).encode()
        return self.post(body, "application/x-www-form-urlencoded"), response_url

    def interactive(self, payload: dict[str, Any]) -> Answer:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def click(self, action_id: str, value: str, *, user: str, channel: str = "C0GENERAL",
              message_ts: str | None = None) -> tuple[Answer, str]:
        response_url = self.fake.response_url()
        container = {"type": "message", "channel_id": channel, "message_ts": message_ts or "0"}
        payload = {
            "type": "block_actions", "team": {"id": "T0TEAM"}, "user": {"id": user}, "api_app_id": "A0APP",
            "trigger_id": self._trigger(), "channel": {"id": channel}, "response_url": response_url,
            "container": container, "actions": [
                {"type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": "1"}
            ],
        }
        return self.interactive(payload), response_url

    def submit(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str) -> Answer:
        """Submit ``view`` (as the app opened it) with ``values`` as its state."""
        state = {"values": {b: {"value": v} for b, v in values.items()}}
        payload = {
            "type": "view_submission", "team": {"id": "T0TEAM"}, "user": {"id": user}, "api_app_id": "A0APP",
            "trigger_id": self._trigger(),
            "view": {**view, "id": "V0VIEW", "state": state},
        }
        return self.interactive(payload)

    def event(self, event: dict[str, Any], *, event_id: str, retry: int | None = None) -> Answer:
        body = json.dumps({
            "token": "x", "team_id": "T0TEAM", "api_app_id": "A0APP", "type": "event_callback",
            "event_id": event_id, "event_time": int(time.time()), "event": event,
        }).encode()
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return self.post(body, "application/json", headers)


def text_input(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def date_value(value: str | None) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}


def select(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def checks(*values: str) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}


def all_text(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text in ``blocks``, joined, for assertions."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "text" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(blocks)
    return "\n".join(out)


def wait_call(fake: Any, method: str, predicate: Any = None, timeout: float = 5.0) -> Any:
    """The first successful ``method`` call (matching ``predicate``) the app made."""
    return fake.wait_for(lambda c: c.method == method and c.ok and (predicate is None or predicate(c)), timeout)


def wait_reply(fake: Any, response_url: str, timeout: float = 5.0) -> dict[str, Any]:
    """What the app posted to ``response_url``."""
    return fake.wait_for(
        lambda c: c.method == "response_url" and c.ok and c.params.get("response_url") == response_url, timeout
    ).params
