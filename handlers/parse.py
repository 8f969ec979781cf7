"""Parsing what people type after a slash command. Pure: no Slack, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.plan import Period, parse_period
from bot.domain.values import parse_amount

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



_BY_SCORE = re.compile(r"\s*\b(?:by\s+)?score\s*$", re.IGNORECASE)


def strip_sort(rest: str) -> tuple[str, bool]:
    """``"@maria by score"`` -> ``("@maria", True)``: a list sorted by lead score."""
    m = _BY_SCORE.search(rest)
    return (rest[: m.start()].strip(), True) if m else (rest.strip(), False)


@dataclass(frozen=True)
class TargetArgs:
    """``/pipeline plan`` and ``/pipeline target`` arguments: whom, how much, which period, what currency."""

    user: str | None = None
    amount: Decimal | None = None
    period: Period | None = None
    currency: str | None = None


def target_args(rest: str) -> TargetArgs:
    """``"@maria 120,000 2026-Q1 EUR"`` in any order; ValueError naming the word not understood."""
    user = mentioned_user(rest)
    amount = period = currency = None
    for word in MENTION.sub(" ", rest).split():
        if amount is None and (value := parse_amount(word)) is not None:
            amount = value
        elif currency is None and re.fullmatch(r"[A-Za-z]{3}", word):
            currency = word.upper()
        else:
            try:
                period = parse_period(word) if period is None else None
            except ValueError:
                period = None
            if period is None:
                raise ValueError(word)
    return TargetArgs(user, amount, period, currency)
