"""The forecast of one period, as a sales manager reads it.

A forecast is always *of a period*: the quarter by default, or the month, in the
company's fiscal calendar. Only deals whose close date falls in the period count in
its categories, as in Salesforce's Collaborative Forecasts and Clari:

- **won**: closed won, on a day inside the period;
- **commit**: open deals in the commit category closing in the period;
- **best case**: commit plus the open best-case deals closing in the period;
- **pipeline**: every open deal closing in the period that is not omitted (so it
  includes best case, which includes commit);
- **landing** = won + commit, against the period's target;
- **coverage** = pipeline against what is left of the target (target − won).

Open deals closing after the period are *next period*; open deals whose close date
lies before the period are *overdue* (their date needs moving, they count nowhere).
A commit deal that closes outside the period, has no close date, or whose date has
passed, is flagged: a commit the rep cannot keep as dated.

Amounts arrive already in the reporting currency (one conversion policy, upstream):
this module only adds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from bot.domain.plan import Period, month_of

__all__ = [
    "CATEGORIES",
    "Calendar",
    "CommitFlag",
    "FlagReason",
    "ForecastDeal",
    "Granularity",
    "PeriodForecast",
    "forecast_of",
]

# A deal's own category, as its owner may set it (Salesforce's forecast categories);
# the stage gives the default. "closed" is a won or lost deal's.
CATEGORIES = ("commit", "best_case", "pipeline", "omitted")


class Granularity(StrEnum):
    QUARTER = "quarter"
    MONTH = "month"


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    i = year * 12 + (month - 1) + n
    return i // 12, i % 12 + 1


def _end_of(year: int, month: int) -> date:
    y, m = _add_months(year, month, 1)
    return date.fromordinal(date(y, m, 1).toordinal() - 1)


_FQ = re.compile(r"^(?:FY)?(\d{4})-?[Qq]([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True)
class Calendar:
    """The company's forecast calendar: the month its fiscal year starts, and the period length.

    A fiscal year is named by the calendar year it ends in (a year starting in
    February 2026 is FY2027), as Salesforce does by default. With a January start the
    fiscal quarters are the calendar ones, labelled ``2026-Q4``; otherwise ``FY2027-Q1``.
    """

    start_month: int = 1
    granularity: Granularity = Granularity.QUARTER

    def __post_init__(self) -> None:
        if not 1 <= self.start_month <= 12:
            raise ValueError(f"the fiscal year's first month must be 1 to 12, not {self.start_month}")

    def _quarter(self, fy: int, q: int) -> Period:
        # FY ``fy`` starts in start_month of fy-1 (or of fy itself with a January start).
        y0 = fy if self.start_month == 1 else fy - 1
        y, m = _add_months(y0, self.start_month, 3 * (q - 1))
        ye, me = _add_months(y, m, 2)
        label = f"{fy}-Q{q}" if self.start_month == 1 else f"FY{fy}-Q{q}"
        return Period(date(y, m, 1), _end_of(ye, me), label)

    def _fiscal(self, day: date) -> tuple[int, int]:
        """(fiscal year, quarter) of a day."""
        offset = (day.month - self.start_month) % 12
        fy = day.year if self.start_month == 1 or day.month < self.start_month else day.year + 1
        return fy, offset // 3 + 1

    def period_of(self, day: date) -> Period:
        """The forecast period ``day`` falls in."""
        if self.granularity is Granularity.MONTH:
            return month_of(day)
        return self._quarter(*self._fiscal(day))

    def next(self, period: Period) -> Period:
        return self.period_of(date.fromordinal(period.end.toordinal() + 1))

    def previous(self, period: Period) -> Period:
        return self.period_of(date.fromordinal(period.start.toordinal() - 1))

    def parse(self, text: str) -> Period:
        """``2026-Q4`` / ``FY2027-Q1`` (a fiscal quarter) or ``2026-11`` (a month); ValueError says what fits."""
        t = text.strip()
        if m := _FQ.match(t):
            return self._quarter(int(m.group(1)), int(m.group(2)))
        if (m := _MONTH.match(t)) and 1 <= int(m.group(2)) <= 12:
            return month_of(date(int(m.group(1)), int(m.group(2)), 1))
        example = "2026-Q4" if self.start_month == 1 else "FY2027-Q1"
        raise ValueError(f"period {text!r} is not a quarter ({example}) or a month (2026-11)")


@dataclass(frozen=True)
class ForecastDeal:
    """One deal as the forecast sees it: its amount already in the reporting currency."""

    ref: str
    owner: str
    amount: Decimal
    category: str  # commit, best_case, pipeline, omitted; closed for won and lost
    close_date: date | None
    won_on: date | None = None  # the day it was won; None when open or lost
    lost: bool = False

    @property
    def is_open(self) -> bool:
        return self.won_on is None and not self.lost and self.category != "closed"


class FlagReason(StrEnum):
    OUTSIDE = "outside"  # commit, but closes after the period
    PASSED = "passed"  # commit, and its close date has passed
    UNDATED = "undated"  # commit with no close date


@dataclass(frozen=True)
class CommitFlag:
    ref: str
    owner: str
    amount: Decimal
    reason: FlagReason
    close_date: date | None


@dataclass(frozen=True)
class PeriodForecast:
    """A subtree's forecast for one period. See the module's docstring for each figure."""

    period: Period
    won: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    next_period: Decimal
    overdue: Decimal
    target: Decimal | None
    flags: tuple[CommitFlag, ...]
    deals_in_period: int  # open deals counted in pipeline

    @property
    def landing(self) -> Decimal:
        return self.won + self.commit

    @property
    def remaining(self) -> Decimal | None:
        return None if self.target is None else max(Decimal(0), self.target - self.won)

    @property
    def landing_share(self) -> float | None:
        """Landing as a share of the target (None without a target)."""
        return float(self.landing / self.target) if self.target else None

    @property
    def coverage(self) -> float | None:
        """In-period pipeline over what is left of the target (None without one, or once it is met)."""
        left = self.remaining
        return float(self.pipeline / left) if left else None


def forecast_of(deals: Iterable[ForecastDeal], period: Period, *, today: date, next_period: Period,
                target: Decimal | None = None) -> PeriodForecast:
    """Add a subtree's deals up into the period's categories (amounts already converted)."""
    won = commit = best = pipe = nxt = overdue = Decimal(0)
    flags: list[CommitFlag] = []
    counted = 0
    for d in deals:
        if d.won_on is not None:
            if period.contains(d.won_on):
                won += d.amount
            continue
        if not d.is_open or d.category == "omitted":
            continue
        close = d.close_date
        if d.category == "commit":
            reason = (FlagReason.UNDATED if close is None else FlagReason.PASSED if close < today
                      else FlagReason.OUTSIDE if close > period.end else None)
            if reason is not None:
                flags.append(CommitFlag(d.ref, d.owner, d.amount, reason, close))
        if close is None:
            continue
        if close < period.start:
            overdue += d.amount
        elif close > period.end:
            if next_period.contains(close):
                nxt += d.amount
        else:
            counted += 1
            pipe += d.amount
            if d.category in ("commit", "best_case"):
                best += d.amount
            if d.category == "commit":
                commit += d.amount
    flags.sort(key=lambda f: (-f.amount, f.ref))
    return PeriodForecast(period, won, commit, best, pipe, nxt, overdue, target, tuple(flags), counted)
