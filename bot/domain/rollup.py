"""Pipeline totals: by stage, by forecast category, weighted by stage probability."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from bot.domain import money
from bot.domain.deal import DealFacts
from bot.domain.playbook import LOST, Playbook


@dataclass
class StageTotal:
    count: int = 0
    amount: money.Bag = field(default_factory=dict)


@dataclass
class Totals:
    open_count: int = 0
    open_amount: money.Bag = field(default_factory=dict)
    weighted: money.Bag = field(default_factory=dict)
    by_stage: dict[str, StageTotal] = field(default_factory=dict)
    by_forecast: dict[str, StageTotal] = field(default_factory=dict)
    won: StageTotal = field(default_factory=StageTotal)
    lost: StageTotal = field(default_factory=StageTotal)


def _bump(t: StageTotal, deal: DealFacts) -> None:
    t.count += 1
    money.add(t.amount, deal.currency, deal.amount)


def totals(deals: Iterable[DealFacts], playbook: Playbook) -> Totals:
    """One pass over ``deals``; closed deals count only under won/lost."""
    out = Totals(by_stage={k: StageTotal() for k in playbook.keys})
    for d in deals:
        if d.stage == LOST:
            _bump(out.lost, d)
            continue
        if d.stage == playbook.won.key:
            _bump(out.won, d)
            continue
        out.open_count += 1
        money.add(out.open_amount, d.currency, d.amount)
        money.add(out.weighted, d.currency, d.amount * playbook.probability(d.stage))
        _bump(out.by_stage[d.stage], d)
        _bump(out.by_forecast.setdefault(d.forecast, StageTotal()), d)
    for bag in (out.weighted,):
        for c in bag:
            bag[c] = bag[c].quantize(Decimal("0.01"))
    return out
