"""Deals at risk: one list, ranked by money, each deal with the one reason that matters most.

The signals are the method's (domain §7: time in stage, a close date that keeps
slipping, no update) read against the forecast: a commit deal that has stalled
first, because it is money the manager is counting on. Each deal is listed once,
under its most serious reason, so the headline's counts are the list's counts.
Amounts arrive in the reporting currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from bot.domain.playbook import Playbook

__all__ = ["RiskFacts", "RiskItem", "RiskList", "RiskReason", "RiskRules", "at_risk"]

ECONOMIC_BUYER = "economic_buyer"


class RiskReason(StrEnum):
    """In order of seriousness: a deal is listed under the first that applies."""

    COMMIT_STALLED = "commit_stalled"
    CLOSE_PASSED = "close_passed"
    SLIPPED = "slipped"  # the close date was pushed out twice or more
    NO_NEXT_STEP = "no_next_step"  # no next step with a date still ahead
    TOO_FAR_OUT = "too_far_out"  # at a stage whose marker promises a close sooner than its date
    NO_ECONOMIC_BUYER = "no_economic_buyer"  # past the stage that needs the economic buyer named


@dataclass(frozen=True)
class RiskRules:
    """What the playbook says about closing: the stage whose marker bounds the close date
    (the default playbook's Shortlisted: "more than 50% likely to close within the next 90
    days"), and the index of the stage whose exit needs the economic buyer."""

    horizon: Mapping[str, int] = field(default_factory=dict)  # stage key -> days
    buyer_from: int | None = None  # deals past this stage index need an economic buyer
    slips: int = 2

    @classmethod
    def from_playbook(cls, pb: Playbook, horizon: Mapping[str, int] | None = None) -> RiskRules:
        wanted = {"shortlisted": 90} if horizon is None else horizon
        keys = {s.key for s in pb.stages}
        buyer = next((i for i, s in enumerate(pb.stages) if ECONOMIC_BUYER in s.exit.roles), None)
        return cls({k: v for k, v in wanted.items() if k in keys}, buyer)


@dataclass(frozen=True)
class RiskFacts:
    """An open deal as the risk list needs it."""

    ref: str
    name: str
    account: str
    owner: str  # the rep's key
    team: str  # the key of the reader's direct report whose subtree holds it
    amount: Decimal  # in the reporting currency
    stage: str
    stage_index: int
    category: str
    stalled: bool
    close_date: date | None
    slips: int
    next_step_date: date | None
    has_economic_buyer: bool


@dataclass(frozen=True)
class RiskItem:
    deal: RiskFacts
    reason: RiskReason


def _reason(d: RiskFacts, rules: RiskRules, today: date) -> RiskReason | None:
    if d.category == "commit" and d.stalled:
        return RiskReason.COMMIT_STALLED
    if d.close_date is not None and d.close_date < today:
        return RiskReason.CLOSE_PASSED
    if d.slips >= rules.slips:
        return RiskReason.SLIPPED
    if d.next_step_date is None or d.next_step_date < today:
        return RiskReason.NO_NEXT_STEP
    days = rules.horizon.get(d.stage)
    if days is not None and d.close_date is not None and (d.close_date - today).days > days:
        return RiskReason.TOO_FAR_OUT
    if rules.buyer_from is not None and d.stage_index > rules.buyer_from and not d.has_economic_buyer:
        return RiskReason.NO_ECONOMIC_BUYER
    return None


@dataclass(frozen=True)
class RiskList:
    """Every deal at risk, largest first. Readers see the top few and "+N more"; the
    counts and totals are always of the whole list."""

    items: tuple[RiskItem, ...]

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def amount(self) -> Decimal:
        return sum((i.deal.amount for i in self.items), Decimal(0))

    def top(self, n: int = 5, *, at_least: Decimal | None = None) -> tuple[tuple[RiskItem, ...], int]:
        """The ``n`` largest (of those worth ``at_least``), and how many of the list are not shown."""
        pool = [i for i in self.items if at_least is None or i.deal.amount >= at_least]
        shown = tuple(pool[:n])
        return shown, self.count - len(shown)

    def by_team(self) -> dict[str, tuple[int, Decimal]]:
        """Count and amount at risk per team, largest amount first."""
        out: dict[str, tuple[int, Decimal]] = {}
        for i in self.items:
            n, a = out.get(i.deal.team, (0, Decimal(0)))
            out[i.deal.team] = (n + 1, a + i.deal.amount)
        return dict(sorted(out.items(), key=lambda kv: (-kv[1][1], kv[0])))

    def by_reason(self) -> dict[RiskReason, int]:
        return {r: n for r in RiskReason if (n := sum(1 for i in self.items if i.reason is r))}


def at_risk(deals: Iterable[RiskFacts], rules: RiskRules, *, today: date) -> RiskList:
    items = [RiskItem(d, r) for d in deals if (r := _reason(d, rules, today)) is not None]
    items.sort(key=lambda i: (-i.deal.amount, list(RiskReason).index(i.reason), i.deal.ref))
    return RiskList(tuple(items))
