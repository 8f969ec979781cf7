"""The activity plan of the sales platform (销售平台): from a target back to calls a day.

The worked example of the method: target 100,000, 80 % achieved, so 20,000 to
go; at 2,000 a deal that is 10 deals; 3 target customers per deal makes 30,
2 proposals per target customer makes 60, 2 visits per proposal makes 120,
2 calls per visit makes 240; over 20 working days, 6 visits and 12 calls a day.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

STEPS = ("customers_per_deal", "proposals_per_customer", "visits_per_proposal", "calls_per_visit")


@dataclass(frozen=True)
class ActivityRatios:
    """Each "1 : X" of the platform, from a won deal down to calls."""

    customers_per_deal: float = 3
    proposals_per_customer: float = 2
    visits_per_proposal: float = 2
    calls_per_visit: float = 2

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.customers_per_deal, self.proposals_per_customer, self.visits_per_proposal, self.calls_per_visit)


@dataclass(frozen=True)
class Plan:
    target: Decimal
    achieved: Decimal
    weighted_open: Decimal  # open pipeline weighted by stage probability, counted towards the target
    gap: Decimal  # still to win, beyond the weighted pipeline; never negative
    average_deal: Decimal
    ratios: ActivityRatios
    working_days: int
    deals: int
    customers: int
    proposals: int
    visits: int
    calls: int

    def per_day(self, count: int) -> Decimal:
        """``count`` spread over the working days left, rounded up to a tenth (0 when none are left)."""
        if self.working_days <= 0:
            return Decimal(0)
        return (Decimal(count) / self.working_days).quantize(Decimal("0.1"), rounding=ROUND_CEILING).normalize()

    @property
    def visits_a_day(self) -> Decimal:
        return self.per_day(self.visits)

    @property
    def calls_a_day(self) -> Decimal:
        return self.per_day(self.calls)

    @property
    def on_track(self) -> bool:
        return self.deals == 0


def _up(x: float) -> int:
    # 2.0000000001 from float ratios must not become 3.
    return math.ceil(round(x, 6))


def activity_plan(*, target: Decimal, achieved: Decimal, average_deal: Decimal, ratios: ActivityRatios,
                  working_days: int, weighted_open: Decimal = Decimal(0)) -> Plan:
    """Work back from what is left of ``target`` to deals, customers, proposals, visits and calls.

    Each count is rounded up: half a deal still needs a whole one.
    """
    if average_deal <= 0:
        raise ValueError("the average deal must be more than 0")
    if target < 0 or achieved < 0 or weighted_open < 0:
        raise ValueError("target, achieved and pipeline cannot be negative")
    if any(r <= 0 for r in ratios.as_tuple()):
        raise ValueError("every ratio must be more than 0")
    gap = max(Decimal(0), target - achieved - weighted_open)
    deals = _up(float(gap / average_deal))
    customers = _up(deals * ratios.customers_per_deal)
    proposals = _up(customers * ratios.proposals_per_customer)
    visits = _up(proposals * ratios.visits_per_proposal)
    calls = _up(visits * ratios.calls_per_visit)
    return Plan(target, achieved, weighted_open, gap, average_deal, ratios, max(0, working_days),
                deals, customers, proposals, visits, calls)


# --- periods and working days ------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """A target's period: a month (``2026-11``), a quarter (``2026-Q4``) or a year (``2026``)."""

    start: date
    end: date  # inclusive
    label: str

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def _month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def parse_period(text: str) -> Period:
    """``2026-11``, ``2026-Q4`` or ``2026``; ValueError saying what is expected otherwise."""
    t = text.strip()
    if m := _MONTH.match(t):
        y, mo = int(m.group(1)), int(m.group(2))
        if 1 <= mo <= 12:
            return Period(date(y, mo, 1), _month_end(y, mo), f"{y}-{mo:02d}")
    elif m := _QUARTER.match(t):
        y, q = int(m.group(1)), int(m.group(2))
        return Period(date(y, 3 * q - 2, 1), _month_end(y, 3 * q), f"{y}-Q{q}")
    elif m := _YEAR.match(t):
        y = int(m.group(1))
        return Period(date(y, 1, 1), date(y, 12, 31), str(y))
    raise ValueError(f"period {text!r} is not a month (2026-11), a quarter (2026-Q4) or a year (2026)")


def month_of(d: date) -> Period:
    return Period(d.replace(day=1), _month_end(d.year, d.month), f"{d.year}-{d.month:02d}")


def working_days(start: date, end: date, *, is_holiday: Callable[[date], bool] = lambda d: False) -> int:
    """Weekdays from ``start`` to ``end`` inclusive that are not holidays (0 when end < start)."""
    n = 0
    d = start
    while d <= end:
        if d.weekday() < 5 and not is_holiday(d):
            n += 1
        d += timedelta(days=1)
    return n
