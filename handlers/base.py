"""What every listener shares: the guard, the reply path and the unit of work."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import wraps
from typing import Any

import sqlalchemy.orm as so
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookClient

from bot.db.engine import transaction
from bot.deps import Deps
from bot.domain.playbook import Playbook
from bot.render.blocks import as_dicts, fallback_text, macro, section
from bot.services.errors import UserError
from bot.services.people import Directory, SlackProfile, person_for_slack_user
from bot.services.workspace import Actor, actor_for

log = logging.getLogger("coach.handlers")
_REDRAW_LOCKS = [threading.Lock() for _ in range(32)]
RETRIES = [RateLimitErrorRetryHandler(max_retry_count=3), ServerErrorRetryHandler(max_retry_count=3),
           ConnectionErrorRetryHandler(max_retry_count=3)]


class SlackDirectory(Directory):
    """Who a Slack user is, from the Web API."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def user(self, user_id: str) -> SlackProfile | None:
        try:
            u = self.client.users_info(user=user_id)["user"]
        except SlackApiError as e:
            log.warning("users.info %s failed: %s", user_id, e.response.get("error"))
            return None
        return SlackProfile(u["id"], (u.get("profile") or {}).get("email"), u.get("tz"))

    def by_email(self, email: str) -> SlackProfile | None:
        try:
            u = self.client.users_lookupByEmail(email=email)["user"]
        except SlackApiError as e:
            if e.response.get("error") != "users_not_found":
                log.warning("users.lookupByEmail failed: %s", e.response.get("error"))
            return None
        return SlackProfile(u["id"], (u.get("profile") or {}).get("email"), u.get("tz"))


def error_blocks(e: UserError) -> list[Block]:
    return [section(macro("errors.j2", e.key, **e.params))]


def user_id_of(body: dict[str, Any]) -> str:
    return body.get("user_id") or (body.get("user") or {}).get("id") or ""


def button_value(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON object a clicked button carries (empty if it is not one)."""
    try:
        value = json.loads(body["actions"][0].get("value") or "{}")
    except (KeyError, IndexError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def week_value(raw: object) -> date:
    """The week a button or form was made for; a mangled one means the form is stale."""
    try:
        return date.fromisoformat(str(raw))
    except ValueError as e:
        raise UserError("stale_view") from e


def metadata_of(body: dict[str, Any]) -> dict[str, Any]:
    raw = (body.get("view") or {}).get("private_metadata") or "{}"
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass
class Replier:
    """Answers the person privately: through the response_url when Slack gave
    one, else as an ephemeral in the channel the work started in, else a DM."""

    client: WebClient
    body: dict[str, Any]

    def ephemeral(self, blocks: list[Block], *, replace: bool = False) -> None:
        payload = as_dicts(blocks)
        text = fallback_text(blocks)
        url = self.body.get("response_url")
        if url:
            hook = WebhookClient(url, timeout=15, retry_handlers=RETRIES)
            resp = hook.send(text=text, blocks=payload, response_type="ephemeral", replace_original=replace or None)
            if resp.status_code != 200:  # WebhookClient does not raise: say so in the log
                log.error("response_url answered %s: %s", resp.status_code, resp.body)
            return
        user = user_id_of(self.body)
        channel = metadata_of(self.body).get("channel") or (self.body.get("channel") or {}).get("id")
        if channel and not str(channel).startswith("D"):
            try:
                self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=payload)
                return
            except SlackApiError as e:  # e.g. the bot is not in that channel: fall back to a DM
                log.info("ephemeral in %s failed (%s); sending a DM", channel, e.response.get("error"))
        self.client.chat_postMessage(channel=user, text=text, blocks=payload)

    def error(self, e: UserError) -> None:
        self.ephemeral(error_blocks(e))


class _Ack:
    """Remembers whether the listener acknowledged, so the guard can if it did not."""

    def __init__(self, ack: Callable[..., Any]) -> None:
        self._ack = ack
        self.done = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.done = True
        return self._ack(*args, **kwargs)


def guarded(fn: Callable[..., None]) -> Callable[..., None]:
    """Nothing a person does yields a 5xx or a stack trace: Slack is always
    acknowledged, a UserError becomes its ephemeral message, and anything
    else is logged with its traceback and answered with an apology."""

    @wraps(fn)
    def wrapper(**kwargs: Any) -> None:
        ack = _Ack(kwargs["ack"])
        kwargs["ack"] = ack
        replier = Replier(kwargs["client"], kwargs["body"])
        try:
            fn(**kwargs)
        except UserError as e:
            if not ack.done:
                ack()
            _safely(replier.error, e)
        except Exception:
            log.exception("listener %s failed", fn.__name__)
            if not ack.done:
                ack()
            _safely(replier.ephemeral, [section(macro("errors.j2", "internal"))])

    return wrapper


def _safely(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("could not tell the person about an error")


@dataclass
class Work:
    """One request's unit of work: the session (committed on success), the acting
    person, and the replies to send once the change is committed."""

    session: so.Session
    actor: Actor
    playbook: Playbook
    now: datetime
    deps: Deps
    client: WebClient
    outbox: list[tuple[list[Block], bool]] = field(default_factory=list)
    updates: list[tuple[str, str, Callable[[so.Session], list[Block]]]] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return "en"

    def reply(self, blocks: list[Block], *, replace: bool = False) -> None:
        """Answer the person privately, after the commit: a reply never claims a change that was rolled back."""
        self.outbox.append((blocks, replace))

    def update_message(self, channel: str, ts: str, render: Callable[[so.Session], list[Block]]) -> None:
        """Redraw a message the bot posted, after the commit. ``render`` runs then, in a fresh
        session, so two quick clicks on one message can't leave it showing only the first."""
        if channel and ts:
            self.updates.append((channel, ts, render))


@contextmanager
def work_for(deps: Deps, client: WebClient, body: dict[str, Any]) -> Iterator[Work]:
    """Open a transaction as the org member who sent ``body``; UserError if there is none.

    Replies queued with ``Work.reply`` go out after the commit.
    """
    with transaction(deps.sessions) as session:
        person = person_for_slack_user(session, user_id_of(body), SlackDirectory(client))
        if person is None:
            raise UserError("not_in_org")
        actor = actor_for(session, person, deps.settings.admins)
        work = Work(session, actor, deps.playbook, deps.clock.now(), deps, client)
        yield work
    replier = Replier(client, body)
    for blocks, replace in work.outbox:
        replier.ephemeral(blocks, replace=replace)
    for channel, ts, render in work.updates:
        # One redraw of a message at a time, each from committed state: the last one drawn is current.
        with _REDRAW_LOCKS[hash((channel, ts)) % len(_REDRAW_LOCKS)]:
            with transaction(deps.sessions) as session:
                blocks = render(session)
            try:
                client.chat_update(channel=channel, ts=ts, text=fallback_text(blocks), blocks=as_dicts(blocks))
            except SlackApiError as e:  # a redraw is a courtesy: the answer itself is stored
                log.warning("could not update message %s in %s: %s", ts, channel, e.response.get("error"))
