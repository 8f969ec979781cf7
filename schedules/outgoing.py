"""What a cadence step hands to the ledger: one message to one recipient, keyed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy.orm as so


@dataclass(frozen=True, order=True)
class SendKey:
    """Identifies a send for exactly-once delivery: at most one per (week, step, recipient)."""

    week: date  # the Monday of the recipient's week
    step: str  # e.g. "checkin_prompt", "checkin_reminder_1", "digest"
    recipient_id: int  # Person.id

    def __str__(self) -> str:
        return f"{self.week.isoformat()}/{self.step}/{self.recipient_id}"


@dataclass
class Outgoing:
    """A message a step wants sent.

    ``channel`` is a Slack user id (a DM) or channel id. ``text``/``blocks`` are
    ready to post. ``on_sent(session, channel, ts)`` runs in the same transaction
    that marks the send as done (e.g. to remember the message ts for later
    ``chat.update``).
    """

    key: SendKey
    due_at: datetime  # aware; when it was meant to go out (late sends are logged as late)
    channel: str
    text: str
    blocks: list[dict[str, Any]]
    on_sent: Callable[[so.Session, str, str], None] | None = field(default=None, compare=False)
