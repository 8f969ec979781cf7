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


@dataclass
class TeamRollup:
    """A manager's view: the whole subtree, and each direct report's part of it."""

    root: str
    total: Totals
    own: Totals  # deals the root owns personally
    by_report: dict[str, Totals]


def team_rollup(
    deals_by_owner: dict[str, list[DealFacts]],
    reports: dict[str, list[str]],
    root: str,
    playbook: Playbook,
) -> TeamRollup:
    """Totals for ``root``'s subtree and per direct report, walking the tree once."""

    def collect(key: str) -> list[DealFacts]:
        out: list[DealFacts] = []
        stack = [key]
        while stack:
            node = stack.pop()
            out.extend(deals_by_owner.get(node, ()))
            stack.extend(reports.get(node, ()))
        return out

    by_report = {r: totals(collect(r), playbook) for r in reports.get(root, ())}
    own = deals_by_owner.get(root, [])
    everything = list(own)
    for r in reports.get(root, ()):
        everything.extend(collect(r))
    return TeamRollup(root, totals(everything, playbook), totals(own, playbook), by_report)
