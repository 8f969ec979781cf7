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
class Confirmation:
    """Who said an item holds (or not), and when."""

    by: str
    at: datetime


@dataclass(frozen=True)
class Plan:
    """An action plan from the team meeting: what, who, by when; ``done`` once followed up."""

    id: int
    what: str
    who: str
    due: date
    agreed_by: str
    agreed_at: datetime
    done: bool | None = None


@dataclass(frozen=True)
class DealFacts:
    """A deal's qualification state: enough to run gates and coach.

    ``roles`` maps a buying-role key to the names of the people holding it;
    ``evaluations`` maps an evaluation key to its item answers (an item
    without an answer is unknown); ``confirmed`` says who confirmed each
    characteristic (by key) and answered each evaluation item (``"eval.item"``).
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
    confirmed: dict[str, Confirmation] = field(default_factory=dict)  # item key -> who confirmed it, when
    plans: tuple[Plan, ...] = ()
    # Set when ``amount``/``currency`` were converted to a reporting currency: the deal's own.
    own_amount: tuple[str, Decimal] | None = None

    @property
    def own_money(self) -> str:
        """The deal's own amount, as entered (``GBP 40,000``), whatever it was converted to."""
        currency, amount = self.own_amount or (self.currency, self.amount)
        return f"{currency} {amount:,.0f}" if amount == amount.to_integral_value() else f"{currency} {amount:,.2f}"

    @property
    def open_plans(self) -> tuple[Plan, ...]:
        """Plans not yet followed up: the next check-in asks "did you do it?"."""
        return tuple(p for p in self.plans if p.done is None)

    def has_bant(self, key: str) -> bool:
        a = self.bant.get(key)
        return a is not None and bool(a.answer.strip())

    def has_role(self, key: str) -> bool:
        return any(n.strip() for n in self.roles.get(key, ()))

    @property
    def answered(self) -> tuple[frozenset[str], frozenset[str]]:
        """The BANT items answered and the buying roles named (not blank)."""
        return (frozenset(k for k in self.bant if self.has_bant(k)),
                frozenset(k for k in self.roles if self.has_role(k)))


@dataclass(frozen=True)
class HistoryLine:
    """One stage change as people see it in a deal's history."""

    at: datetime
    from_stage: str | None
    to_stage: str
    by: str
    reason: str
    overridden: bool
