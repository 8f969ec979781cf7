"""Web API clients, with the one retry policy every caller shares.

Replies, lookups and listeners use :func:`web_client`: it waits out 429s and retries
5xx answers and lost connections. The send ledger uses :func:`ledger_client`, which
never retries a post blindly (a retried post after a lost answer could be a second
message): the ledger checks the conversation itself before trying again.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
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


def ledger_client(client: WebClient) -> WebClient:
    """``client`` without blind retries: only 429s are waited out, the ledger handles the rest."""
    return WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                     retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=5)])


def verify_slack(client: WebClient) -> None:
    """Ask Slack who the token belongs to (``auth.test``); a wrong token or an unreachable
    Slack becomes a ConfigError saying what was tried and what to check."""
    # A start-up check fails fast: one try, no retries with back-off on a connection error.
    # Its failure is reported once, below, rather than also logged by slack_sdk.
    quiet = logging.getLogger("coach.app.slack_check")
    quiet.setLevel(logging.CRITICAL)
    probe = WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout, logger=quiet,
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
