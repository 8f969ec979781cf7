"""Coverage: open and weighted pipeline against what is left of the target.

A person's target is their own for the period (the shortest period that has
one); a manager without one is measured against the sum of their team's
targets. What counts as won is what their subtree won since the period began.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.domain.plan import Period


@dataclass(frozen=True)
class TargetFact:
    person: str
    period: Period
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class WonFact:
    owner: str
    amount: Decimal
    currency: str
    on: date  # the day it was won


@dataclass(frozen=True)
class Coverage:
    period: str
    currency: str
    target: Decimal
    won: Decimal
    open: Decimal
    weighted: Decimal
    summed: bool  # the team's targets added up, not one set for the person

    @property
    def remaining(self) -> Decimal:
        return max(Decimal(0), self.target - self.won)

    @property
    def open_ratio(self) -> float | None:
        """Open pipeline over what is left (None once the target is met)."""
        return float(self.open / self.remaining) if self.remaining else None

    @property
    def weighted_ratio(self) -> float | None:
        return float(self.weighted / self.remaining) if self.remaining else None


def _length(p: Period) -> int:
    return (p.end - p.start).days


def coverage(key: str, team: Iterable[str], targets: Mapping[str, list[TargetFact]],
             won: Mapping[str, list[WonFact]], open_amount: Mapping[str, Decimal],
             weighted: Mapping[str, Decimal]) -> Coverage | None:
    """``key``'s coverage; ``team`` is everyone beneath them (``key`` excluded), ``targets`` and
    ``won`` are by person, ``open_amount``/``weighted`` their subtree's pipeline by currency."""
    team = list(team)
    own = sorted(targets.get(key, []), key=lambda t: _length(t.period))
    if own:
        chosen, summed = [own[0]], False
    else:
        theirs = [t for k in team for t in targets.get(k, [])]
        if not theirs:
            return None
        shortest = min(_length(t.period) for t in theirs)
        theirs = [t for t in theirs if _length(t.period) == shortest]
        # One target per person: the first of equally short ones.
        seen: dict[str, TargetFact] = {}
        for t in theirs:
            seen.setdefault(t.person, t)
        chosen, summed = list(seen.values()), True
    currencies = [t.currency for t in chosen]
    currency = max(set(currencies), key=lambda c: (currencies.count(c), c))
    period = chosen[0].period
    amount = sum((t.amount for t in chosen if t.currency == currency), Decimal(0))
    won_amount = sum((w.amount for k in [key, *team] for w in won.get(k, [])
                      if w.currency == currency and period.contains(w.on)), Decimal(0))
    return Coverage(period.label, currency, amount, won_amount, open_amount.get(currency, Decimal(0)),
                    weighted.get(currency, Decimal(0)), summed)
