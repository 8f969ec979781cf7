"""Parsing what people type after a slash command. Pure: no Slack, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Command:
    verb: str
    rest: str  # everything after the verb, trimmed

    @property
    def words(self) -> list[str]:
        return self.rest.split()


def parse(text: str) -> Command:
    text = (text or "").strip()
    verb, _, rest = text.partition(" ")
    return Command(verb.lower(), rest.strip())


def mentioned_user(text: str) -> str | None:
    """The Slack user id of the first mention in ``text``, if any."""
    m = MENTION.search(text or "")
    return m.group(1) if m else None

