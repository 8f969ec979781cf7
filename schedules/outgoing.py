"""What a cadence step hands to the ledger: one message to one recipient, keyed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy.orm as so

from bot.db.models import Person
from bot.deps import Deps
from bot.services.people import Directory, recipient_language, slack_id_for
from bot.slack.client import web_client
from bot.slack.directory import SlackDirectory

log = logging.getLogger("coach.schedule")


@dataclass(frozen=True, order=True)
class SendKey:
    """Identifies a send for exactly-once delivery: at most one per (week, step, recipient)."""

    week: date  # the Monday of the recipient's week
    step: str  # e.g. "checkin_prompt", "checkin_reminder_1", "digest"
    recipient_id: int  # Person.id

    def __str__(self) -> str:
        return f"{self.week.isoformat()}/{self.step}/{self.recipient_id}"

    @property
    def tag(self) -> str:
        """The key as a file-name part: uploaded files are found again by it (they carry no metadata)."""
        return f"{self.week.isoformat()}-{self.step}-{self.recipient_id}"


@dataclass
class Outgoing:
    """A message a step wants sent.

    ``channel`` is a Slack user id (a DM) or channel id. ``text``/``blocks`` are
    ready to post. ``on_sent(session, channel, ts)`` runs in the same transaction
    that marks the send as done (e.g. to remember the message ts for later
    ``chat.update``). With ``files`` (each with ``filename``, ``title``, ``alt``, ``data``, every
    filename containing ``key.tag``), the files are uploaded and shared with ``text`` as their comment
    instead of posting ``blocks``.
    """

    key: SendKey
    due_at: datetime  # aware; when it was meant to go out (late sends are logged as late)
    channel: str
    text: str
    blocks: list[dict[str, Any]]
    on_sent: Callable[[so.Session, str, str], None] | None = field(default=None, compare=False)
    files: list[Any] = field(default_factory=list, compare=False)


class SlackIds:
    """Each recipient's Slack id: the stored one, else looked up by email once (and stored)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._directory: Directory | None = None

    @property
    def directory(self) -> Directory:
        if self._directory is None:
            self._directory = SlackDirectory(web_client(self.deps.settings))
        return self._directory

    def language(self, session: so.Session, person: Person) -> str:
        """The language ``person`` reads (their Slack locale is asked once when nothing else says)."""
        return recipient_language(session, person, self.directory, self.deps.settings.language)

    def of(self, session: so.Session, person: Person, what: str) -> str | None:
        if person.deactivated:
            log.info("%s is deactivated in Slack: no %s", person.email, what)
            return None
        if person.slack_user_id is not None:
            return person.slack_user_id
        found = slack_id_for(session, person, self.directory)
        if not found:
            log.warning("no Slack account found for %s: cannot send their %s", person.email, what)
        return found
