"""The one composition root: the Bolt app, built the same way for ``coach serve``,
Socket Mode, the tests and the demo — only the adapters differ."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

import sqlalchemy as sa
from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

import handlers
from bot.config import ConfigError, Settings
from bot.db.engine import transaction
from bot.db.models import HandledEvent
from bot.deps import Deps

log = logging.getLogger("coach.app")


def web_client(settings: Settings) -> WebClient:
    """A Web API client at ``SLACK_API_URL`` that waits out 429s and retries 5xx and timeouts."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=3),
        ],
    )


def check_slack_settings(settings: Settings, *, socket_mode: bool) -> None:
    """Refuse to start with settings Slack would reject, saying which and how to fix it."""
    problems = []
    if not settings.slack_bot_token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be the app's Bot User OAuth Token (xoxb-…): "
                        "Slack app settings → OAuth & Permissions")
    if socket_mode:
        if not settings.slack_app_token.startswith("xapp-"):
            problems.append("SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope: "
                            "Slack app settings → Basic Information → App-Level Tokens")
    elif not settings.slack_signing_secret:
        problems.append("SLACK_SIGNING_SECRET is not set: copy it from Slack app settings → Basic Information")
    if problems:
        raise ConfigError("cannot start:\n  " + "\n  ".join(problems))


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


def create_app(deps: Deps, *, client: WebClient | None = None, verify_token: bool = True,
               listener_executor: Executor | None = None) -> App:
    """The Bolt app with every listener registered.

    ``verify_token`` asks Slack's ``auth.test`` at start-up, so a wrong token
    stops the app with a clear message instead of failing on first use.
    ``listener_executor`` runs the work that follows each ack (the embedded
    workspace passes one it can wait on; Bolt's default otherwise).
    """
    settings = deps.settings
    client = client or web_client(settings)
    if verify_token:
        verify_slack(client)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret or "unused-in-socket-mode",
        token_verification_enabled=False,  # done above, with a better message
        process_before_response=False,  # ack first; the listener's slow work continues after
        raise_error_for_unhandled_request=False,
        ignoring_self_events_enabled=True,
        **({"listener_executor": listener_executor} if listener_executor is not None else {}),
    )
    app.use(_once_per_event(deps))
    app.error(_on_error)
    handlers.register(app, deps)
    return app


def _once_per_event(deps: Deps) -> Any:
    """Events API deliveries take effect once: Slack retries (X-Slack-Retry-Num)
    after a slow or failed answer, so each event_id is recorded before acting."""

    def middleware(body: dict[str, Any], next: Any, logger: logging.Logger) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return next()
        try:
            with transaction(deps.sessions) as session:
                session.add(HandledEvent(event_id=event_id, handled_at=deps.clock.now()))
        except sa.exc.IntegrityError:
            logger.info("event %s already handled; ignoring Slack's retry", event_id)
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def _on_error(error: Exception, body: dict[str, Any], logger: logging.Logger) -> None:
    # Listeners are guarded; this catches what happens outside them (middleware).
    logger.exception("unhandled error for a %s request", body.get("type") or "command", exc_info=error)
