"""One Slack request's unit of work: a transaction as the person who acted, and the
replies and redraws that go out once it is committed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy.orm as so
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot import i18n
from bot.db.engine import transaction
from bot.deps import Deps
from bot.domain.playbook import Playbook
from bot.render.blocks import as_dicts, fallback_text
from bot.services.access import Actor, actor_for
from bot.services.errors import UserError
from bot.services.people import language_of, person_for_slack_user
from bot.slack.directory import SlackDirectory
from bot.slack.payload import user_id_of
from bot.slack.reply import Replier

log = logging.getLogger("coach.handlers")
_REDRAW_LOCKS = [threading.Lock() for _ in range(32)]

Redraw = Callable[[so.Session], list[Block]]  # draws a message again, in a fresh session


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
    lang: str = i18n.DEFAULT  # the acting person's; in force (bot.i18n.language) for the whole request
    outbox: list[tuple[list[Block], bool]] = field(default_factory=list)
    updates: list[tuple[str, str, Redraw]] = field(default_factory=list)


    @property
    def directory(self) -> SlackDirectory:
        return SlackDirectory(self.client)

    def reply(self, blocks: list[Block], *, replace: bool = False) -> None:
        """Answer the person privately, after the commit: a reply never claims a change that was rolled back."""
        self.outbox.append((blocks, replace))

    def update_message(self, channel: str, ts: str, render: Redraw) -> None:
        """Redraw a message the bot posted, after the commit. ``render`` runs then, in a fresh
        session, so two quick clicks on one message can't leave it showing only the first."""
        if channel and ts:
            self.updates.append((channel, ts, render))


def language_for(deps: Deps, client: WebClient, body: dict[str, Any]) -> str:
    """The language of whoever sent ``body``, for an answer that needs no unit of work (help);
    the workspace's when they are not in the org."""
    with transaction(deps.sessions) as session:
        person = person_for_slack_user(session, user_id_of(body), SlackDirectory(client))
        return language_of(person, deps.settings.language) if person else deps.settings.language


@contextmanager
def work_for(deps: Deps, client: WebClient, body: dict[str, Any]) -> Iterator[Work]:
    """Open a transaction as the org member who sent ``body``; UserError if there is none.

    Replies queued with ``Work.reply`` go out after the commit.
    """
    with transaction(deps.sessions) as session:
        person = person_for_slack_user(session, user_id_of(body), SlackDirectory(client))
        if person is None:
            raise i18n.speaking(UserError("not_in_org"), deps.settings.language)
        if person.deactivated:  # a stale button or a forged request: Slack itself lets them do nothing
            raise i18n.speaking(UserError("deactivated"), language_of(person, deps.settings.language))
        actor = actor_for(session, person, deps.settings.admins)
        lang = language_of(person, deps.settings.language)
        work = Work(session, actor, deps.playbook, deps.clock.now(), deps, client, lang=lang)
        try:
            with i18n.language(lang):
                yield work
        except Exception as e:  # answered by handlers.base.guarded, in the person's language
            i18n.speaking(e, lang)
            raise
    with i18n.language(work.lang):  # `/deal language` may have just changed it
        _send(work, client, body)


def _send(work: Work, client: WebClient, body: dict[str, Any]) -> None:
    deps = work.deps
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
