"""Web API clients, with the one retry policy every caller shares.

Replies, lookups and listeners use :func:`web_client`: it waits out 429s and retries
5xx answers and lost connections. The send ledger uses :func:`ledger_client`, which
never retries a post blindly (a retried post after a lost answer could be a second
message): the ledger checks the conversation itself before trying again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

from bot.config import ConfigError, Settings

TIMEOUT = 15  # seconds, for every call to Slack


def retry_handlers() -> list[RetryHandler]:
    """The retry policy: 429s waited out, 5xx and lost connections retried, three times each."""
    return [RateLimitErrorRetryHandler(max_retry_count=3), ServerErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=3)]


def web_client(settings: Settings) -> WebClient:
    """A Web API client at ``SLACK_API_URL`` with the retry policy."""
    return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=TIMEOUT,
                     retry_handlers=retry_handlers())


def webhook_client(url: str) -> WebhookClient:
    """A ``response_url`` client with the retry policy."""
    return WebhookClient(url, timeout=TIMEOUT, retry_handlers=retry_handlers())


class Budget(Protocol):
    """What every sender shares: a slot to send in, and a pause for everyone after a 429."""

    def wait(self) -> None: ...

    def pause(self, seconds: float) -> None: ...


class Pace:
    """A send budget in one process, shared by every thread that posts: at most ``per_second`` calls, evenly
    spaced, and when Slack answers 429 everyone waits out its ``Retry-After``, not only the
    thread that got it. ``per_second=None``: no pacing, ``Retry-After`` still shared."""

    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._lock = threading.Lock()
        self._next = 0.0  # monotonic time of the next free slot
        self._paused_until = 0.0

    def wait(self) -> None:
        """Block until this caller may send."""
        while True:
            with self._lock:
                now = time.monotonic()
                at = max(now, self._next, self._paused_until)
                self._next = at + self.interval
            if at > now:
                time.sleep(at - now)
            with self._lock:
                if time.monotonic() >= self._paused_until:
                    return

    def pause(self, seconds: float) -> None:
        """Slack said to wait: nobody sends for ``seconds``."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)


class _SharedRetryAfter(RateLimitErrorRetryHandler):
    """On a 429, pause the whole budget for ``Retry-After``, then retry in turn."""

    def __init__(self, pace: Budget, max_retry_count: int) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pace = pace

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        state.next_attempt_requested = True
        after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
        try:
            seconds = float(after[0] if isinstance(after, list) else after) if after else 1.0
        except ValueError:
            seconds = 1.0
        self.pace.pause(seconds)
        self.pace.wait()
        state.increment_current_attempt()


def ledger_client(client: WebClient, pace: Budget | None = None) -> WebClient:
    """``client`` without blind retries: only 429s are waited out (by everyone sharing ``pace``),
    the ledger handles the rest."""
    return WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                     retry_handlers=[_SharedRetryAfter(pace or Pace(None), max_retry_count=8)])


PROBE_TIMEOUT = 10  # seconds: a start-up check that waits longer looks like a hang to the person at the terminal


def verify_slack(client: WebClient) -> None:
    """Ask Slack who the token belongs to (``auth.test``); a wrong token or an unreachable
    Slack becomes a ConfigError saying what was tried and what to check."""
    # A start-up check fails fast: one try, no retries with back-off on a connection error.
    # Its failure is reported once, below, rather than also logged by slack_sdk.
    quiet = logging.getLogger("coach.app.slack_check")
    quiet.setLevel(logging.CRITICAL)
    probe = WebClient(token=client.token, base_url=client.base_url, timeout=min(client.timeout, PROBE_TIMEOUT),
                      logger=quiet,
                      retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)])
    try:
        probe.auth_test()
    except SlackApiError as e:
        raise ConfigError(f"Slack rejected SLACK_BOT_TOKEN ({e.response.get('error')}): "
                          "copy the Bot User OAuth Token again from the app's OAuth & Permissions page") from e
    except (OSError, ValueError, SlackClientError) as e:  # URLError, timeouts, refused connections, a bad URL
        reason = getattr(e, "reason", None) or e
        raise ConfigError(f"cannot reach Slack's Web API at {client.base_url} ({reason}): check SLACK_API_URL "
                          "(default https://slack.com/api/) and this machine's network connection") from e
