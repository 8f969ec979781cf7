"""Each tier's digest is for what that tier does (the source's weekly cadence, domain §1).

- first-line (manages reps): the team consolidated rep by rep, and the sales plan (汇总, 销售计划);
- middle (second-line): the teams beneath compared side by side;
- region head (tier >= the sign-off tier, not the top): the region's forecast, to sign off (认可);
- the top (no manager): the global report, each region's signed-off forecast (全球的报表).

Which kind a digest is comes from the person's place in the org, not fixed tier numbers,
since the number of tiers is each company's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.domain.coverage import Coverage
from bot.domain.forecast import ForecastCheck, off_by_more_than
from bot.domain.plan import ActivityRatios, Plan, activity_plan
from bot.domain.rollup import StageTotal, Totals
from bot.domain.waterfall import Concern


class DigestKind(StrEnum):
    FIRST_LINE = "first_line"
    MIDDLE = "middle"
    REGION = "region"
    TOP = "top"


def digest_kind(key: str, managers: Mapping[str, str | None], tiers: Mapping[str, int],
                signoff_tier: int) -> DigestKind:
    """A first-line manager manages reps only (tier 1: also the head of a one-team company); the top has
    no manager; a region head is at or above the sign-off tier; anyone else between is second-line (middle)."""
    tier = tiers.get(key, 0)
    if tier <= 1:
        return DigestKind.FIRST_LINE
    if managers.get(key) is None:
        return DigestKind.TOP
    return DigestKind.REGION if tier >= signoff_tier else DigestKind.MIDDLE


def first_line_beneath(key: str, reports: Mapping[str, Sequence[str]], tiers: Mapping[str, int]) -> list[str]:
    """The first-line managers in ``key``'s subtree, depth first in report order (a direct report
    who is first-line comes as one)."""
    out: list[str] = []
    stack = list(reversed(reports.get(key, ())))
    while stack:
        k = stack.pop()
        if tiers.get(k, 0) == 1:
            out.append(k)
        elif tiers.get(k, 0) > 1:
            stack.extend(reversed(reports.get(k, ())))
    return out


# -- first-line: the sales plan ----------------------------------------------------------------

@dataclass(frozen=True)
class SalesPlan:
    """The team's target for the period and what it takes to close the gap (the sales platform)."""

    coverage: Coverage
    plan: Plan | None  # None when no average deal is known to work back from

    @property
    def gap(self) -> Decimal:
        """What is left beyond the weighted pipeline."""
        return max(Decimal(0), self.coverage.remaining - self.coverage.weighted)


def sales_plan(c: Coverage, *, average_deal: Decimal | None, ratios: ActivityRatios,
               working_days: int) -> SalesPlan:
    plan = None
    if average_deal is not None and average_deal > 0:
        plan = activity_plan(target=c.target, achieved=min(c.won, c.target), average_deal=average_deal,
                             ratios=ratios, working_days=working_days, weighted_open=c.weighted)
    return SalesPlan(c, plan)


# -- second-line: the teams compared -----------------------------------------------------------

def _in(bag: Mapping[str, Decimal], currency: str) -> Decimal:
    return bag.get(currency, Decimal(0))


@dataclass(frozen=True)
class TeamLine:
    """One first-line team in a comparison, amounts in ``currency`` (the digest's reporting one)."""

    name: str
    currency: str
    open_count: int
    open_amount: Decimal
    weighted: Decimal
    commit: Decimal
    won: Decimal  # this week
    coverage: Coverage | None
    stalled: int  # open deals past their stage's limit
    checkins_done: int
    checkins_due: int  # the team's reps asked this week, less those away

    @property
    def stalled_share(self) -> float:
        return self.stalled / self.open_count if self.open_count else 0.0

    @property
    def cover(self) -> float | None:
        """Weighted pipeline over what is left of the target; infinite once the target is met."""
        if self.coverage is None:
            return None
        ratio = self.coverage.weighted_ratio
        return float("inf") if ratio is None else ratio


def team_line(name: str, totals: Totals, concerns: Mapping[str, int], checkins: Mapping[str, int],
              coverage: Coverage | None, currency: str) -> TeamLine:
    commit = totals.by_forecast.get("commit", StageTotal()).amount
    due = sum(n for status, n in checkins.items() if status not in ("away", "deactivated"))
    return TeamLine(name, currency, totals.open_count, _in(totals.open_amount, currency),
                    _in(totals.weighted, currency), _in(commit, currency), _in(totals.won.amount, currency), coverage,
                    concerns.get(Concern.STALLED, 0), checkins.get("complete", 0), due)


def best_and_weakest(lines: Sequence[TeamLine]) -> tuple[TeamLine | None, TeamLine | None]:
    """The best- and the worst-covered team (fewer stalled deals break a tie); None when fewer than
    two teams can be compared (no targets)."""
    ranked = sorted((t for t in lines if t.cover is not None),
                    key=lambda t: (t.cover or 0.0, -t.stalled_share, t.name))
    if len(ranked) < 2:
        return None, None
    return ranked[-1], ranked[0]


# -- region head: the forecast to sign off -----------------------------------------------------

@dataclass(frozen=True)
class Figures:
    """A forecast in one currency: commit, best case (commit + best-case deals) and the open pipeline."""

    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    currency: str


def rolled_up(totals: Totals, currency: str) -> Figures:
    by = totals.by_forecast
    commit = _in(by.get("commit", StageTotal()).amount, currency)
    best = commit + _in(by.get("best_case", StageTotal()).amount, currency)
    return Figures(commit, best, _in(totals.open_amount, currency), currency)


def main_currency(totals: Totals, preferred: str) -> str:
    """The currency a section's figures are in: the reporting one, unless none of the pipeline is in it
    (no rates to convert): then the one most of it is in."""
    bag = {c: a for c, a in totals.open_amount.items() if a}
    if not bag or bag.get(preferred):
        return preferred
    return max(bag, key=lambda c: (bag[c], c))


def other_currencies(totals: Totals, currency: str) -> tuple[str, ...]:
    """Currencies in the pipeline that could not be converted to ``currency`` (no rate): left out of figures."""
    return tuple(sorted(c for c, a in totals.open_amount.items() if c != currency and a))


@dataclass(frozen=True)
class ForecastLine:
    """A direct report's forecast: their own figure from their comment, else their team's as rolled up."""

    name: str
    commit: Decimal | None
    best_case: Decimal | None
    currency: str
    given: bool  # from their comment (False: rolled up from their team's deals)
    signed: bool


@dataclass(frozen=True)
class SignedFigure:
    commit: Decimal | None
    best_case: Decimal | None
    currency: str
    comment: str
    adjusted: bool  # not the figure as rolled up: the region head gave their own


def signed_figure(commit: Decimal | None, best_case: Decimal | None, currency: str, comment: str,
                  rolled: Figures) -> SignedFigure:
    same = currency == rolled.currency and commit == rolled.commit and best_case == rolled.best_case
    return SignedFigure(commit, best_case, currency, comment, not same)


@dataclass(frozen=True)
class RegionForecast:
    figures: Figures
    reports: Sequence[ForecastLine]
    signed: SignedFigure | None  # the region head's own 认可, once given
    left_out: tuple[str, ...] = ()  # currencies without a rate, not in the figures


# -- the top: the global report ----------------------------------------------------------------

@dataclass(frozen=True)
class RegionLine:
    """One region in the global report, in the report's currency."""

    name: str
    signed_commit: Decimal | None  # the region head's signed-off commit; None: not signed off yet
    signed_best: Decimal | None
    signed_currency: str  # the report's, unless no rate converts the signed figure to it
    rolled_commit: Decimal  # the region's commit as the deals roll up
    rolled_currency: str
    won: Decimal | None  # in the target's period
    target: Decimal | None
    last: ForecastCheck | None = None  # last period's forecast against what was won
    margin: int = 20

    @property
    def signed(self) -> bool:
        return self.signed_commit is not None

    @property
    def missed(self) -> bool:
        return self.last is not None and off_by_more_than(self.last.forecast, self.last.won, self.margin)


@dataclass(frozen=True)
class GlobalReport:
    currency: str
    regions: Sequence[RegionLine]
    target: Decimal | None
    won: Decimal | None

    def _counted(self, r: RegionLine) -> bool:
        return r.signed_commit is not None and r.signed_currency == self.currency

    @property
    def signed_total(self) -> Decimal:
        """The signed-off commits in the report's currency (one without a rate is not added in)."""
        return sum((r.signed_commit or Decimal(0) for r in self.regions if self._counted(r)), Decimal(0))

    @property
    def signed_count(self) -> int:
        return sum(1 for r in self.regions if r.signed)

    @property
    def forecast_total(self) -> Decimal:
        """Signed figures where given, the rolled-up commit of the regions not signed off yet (in the
        report's currency: a region without a rate to it is left out)."""
        return sum((r.signed_commit if self._counted(r) and r.signed_commit is not None else
                    r.rolled_commit if r.rolled_currency == self.currency else Decimal(0)
                    for r in self.regions), Decimal(0))


@dataclass(frozen=True)
class TierView:
    """The section a digest opens with, by kind; the fields of the other kinds stay empty."""

    kind: DigestKind
    plan: SalesPlan | None = None
    teams: Sequence[TeamLine] = ()
    best: TeamLine | None = None
    weakest: TeamLine | None = None
    region: RegionForecast | None = None
    report: GlobalReport | None = None
