"""What we know about a deal, as plain data the gate and roll-ups reason over."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class BantAnswer:
    answer: str
    confirmed_at: datetime


@dataclass(frozen=True)
class DealFacts:
    """A deal's qualification state: enough to run gates and coach.

    ``roles`` maps a buying-role key to the names of the people holding it;
    ``evaluations`` maps an evaluation key to its item answers.
    """

    ref: str
    name: str
    stage: str
    owner: str = ""
    account: str = ""
    amount: Decimal = Decimal(0)
    currency: str = "USD"
    close_date: date | None = None
    forecast: str = "pipeline"
    next_step: str = ""
    next_step_date: date | None = None
    characteristics: frozenset[str] = frozenset()
    bant: dict[str, BantAnswer] = field(default_factory=dict)
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    evaluations: dict[str, dict[str, bool]] = field(default_factory=dict)
    stage_entered_at: datetime | None = None
    updated_at: datetime | None = None  # last edit of any kind: the lead score ages by it
    lost_reason: str = ""

    def has_bant(self, key: str) -> bool:
        a = self.bant.get(key)
        return a is not None and bool(a.answer.strip())

    def has_role(self, key: str) -> bool:
        return any(n.strip() for n in self.roles.get(key, ()))


@dataclass(frozen=True)
class HistoryLine:
    """One stage change as people see it in a deal's history."""

    at: datetime
    from_stage: str | None
    to_stage: str
    by: str
    reason: str
    overridden: bool
