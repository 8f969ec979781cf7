"""Forecast against actual: when a manager's forecast and what was won differ, the review asks why.

The source's questions (销售机会与管理 / domain §6): what did we do wrong, what
don't we know, did the customer mislead us, what do we do next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

QUESTIONS = ("wrong", "unknown", "misled", "next_steps")


@dataclass(frozen=True)
class ForecastCheck:
    """Last period's forecast (the manager's commit) against what the subtree won in it."""

    week: date  # the Monday of the period reviewed
    forecast: Decimal
    won: Decimal
    currency: str
    answered: bool = False

    @property
    def gap(self) -> Decimal:
        return self.won - self.forecast


def off_by_more_than(forecast: Decimal, won: Decimal, margin_percent: int) -> bool:
    """True when ``won`` misses ``forecast`` (either way) by more than ``margin_percent`` of it."""
    if forecast <= 0:
        return won > 0
    return abs(won - forecast) * 100 > forecast * margin_percent


@dataclass(frozen=True)
class ReviewRow:
    """A manager's answers, shown to the tier above."""

    name: str
    check: ForecastCheck
    wrong: str
    unknown: str
    misled: str
    next_steps: str
