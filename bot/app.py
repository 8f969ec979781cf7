"""The one composition root: the Bolt app, built the same way for ``coach serve``,
Socket Mode, the tests and the demo — only the adapters differ."""

from __future__ import annotations

import logging
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.config import ConfigError, Settings
from bot.db.engine import transaction
from bot.db.models import HandledEvent
from bot.deps import Deps
from bot.slack.client import verify_slack, web_client
from handlers import checkin, digest, home, pipeline
from handlers.base import WORK_KEY
from handlers.deal import buttons, command, modals

log = logging.getLogger("coach.app")


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


ACK_THREADS = 16  # Bolt's listener pool: it only acks and hands off, so it never fills up
# The work after the acks (queries, rendering, replies). It is CPU-bound under one interpreter
# lock: more threads than cores only take the lock from the acks (bench/ack.py, 2 cores: p99
# of the ack 184 ms with 4 threads, 118 ms with 2) without finishing the work any sooner.
WORK_THREADS = 2


def create_app(deps: Deps, *, client: WebClient | None = None, verify_token: bool = True,
               listener_executor: Executor | None = None) -> App:
    """The Bolt app with every listener registered.

    ``verify_token`` asks Slack's ``auth.test`` at start-up, so a wrong token
    stops the app with a clear message instead of failing on first use.
    ``listener_executor`` runs the listeners and the work that follows each ack (the
    embedded workspace passes one it can wait on). Otherwise acks and the work after
    them get separate pools, so an ack never queues behind another request's work.
    """
    settings = deps.settings
    client = client or web_client(settings)
    if verify_token:
        verify_slack(client)
    work: Executor
    if listener_executor is None:
        listener_executor = ThreadPoolExecutor(ACK_THREADS, thread_name_prefix="coach-ack")
        work = ThreadPoolExecutor(WORK_THREADS, thread_name_prefix="coach-work")
    else:
        work = listener_executor
    extra: dict[str, Any] = {"listener_executor": listener_executor}
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret or "unused-in-socket-mode",
        token_verification_enabled=False,  # done above, with a better message
        process_before_response=False,  # ack first; the listener's slow work continues after
        raise_error_for_unhandled_request=False,
        ignoring_self_events_enabled=True,
        **extra,
    )
    app.use(_with_work(work))
    app.use(_once_per_event(deps))
    app.error(_on_error)
    for listeners in (command, pipeline, buttons, modals, home, checkin, digest):
        listeners.register(app, deps)
    return app


def _with_work(executor: Executor) -> Any:
    """Hand the work executor to ``handlers.base.acked`` listeners through the request's context."""

    def middleware(context: dict[str, Any], next: Any) -> BoltResponse | None:
        context[WORK_KEY] = executor
        return next()

    return middleware


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
