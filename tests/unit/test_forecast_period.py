"""Forecast periods and categories: only deals closing in the period count in it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.forecast_period import Calendar, FlagReason, ForecastDeal, Granularity, forecast_of

Q = Calendar()
Q4 = Q.parse("2026-Q4")
TODAY = date(2026, 12, 4)


def test_calendar_quarters_and_months() -> None:
    assert (Q4.start, Q4.end, Q4.label) == (date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")
    assert Q.period_of(TODAY) == Q4
    assert Q.next(Q4).label == "2027-Q1" and Q.previous(Q4).label == "2026-Q3"
    month = Calendar(granularity=Granularity.MONTH)
    assert month.period_of(TODAY).label == "2026-12" and month.next(month.period_of(TODAY)).label == "2027-01"
    assert month.parse("2026-02").end == date(2026, 2, 28)


def test_a_fiscal_year_starting_in_february_is_named_by_the_year_it_ends() -> None:
    fy = Calendar(start_month=2)
    p = fy.period_of(TODAY)  # Nov-Jan is the fourth quarter of the year Feb 2026 - Jan 2027
    assert (p.label, p.start, p.end) == ("FY2027-Q4", date(2026, 11, 1), date(2027, 1, 31))
    assert fy.period_of(date(2026, 2, 1)).label == "FY2027-Q1"
    assert fy.period_of(date(2026, 1, 31)).label == "FY2026-Q4"
    assert fy.parse("FY2027-Q1") == fy.period_of(date(2026, 3, 15))
    assert fy.next(p).label == "FY2028-Q1"


def test_bad_periods_and_months_say_what_fits() -> None:
    with pytest.raises(ValueError, match=r"not a quarter \(2026-Q4\) or a month"):
        Q.parse("2026-Q5")
    with pytest.raises(ValueError, match="FY2027-Q1"):
        Calendar(start_month=7).parse("Q3")
    with pytest.raises(ValueError, match="1 to 12"):
        Calendar(start_month=13)


@given(day=st.dates(date(1990, 1, 1), date(2100, 12, 31)), start=st.integers(1, 12),
       gran=st.sampled_from(list(Granularity)))
def test_every_day_is_in_exactly_one_period_and_periods_tile(day, start, gran) -> None:
    cal = Calendar(start, gran)
    p = cal.period_of(day)
    assert p.contains(day)
    assert cal.next(p).start == p.end + timedelta(days=1)
    assert cal.previous(cal.next(p)) == p
    assert cal.parse(p.label) == p
    assert (p.end - p.start).days + 1 in ((89, 90, 91, 92) if gran is Granularity.QUARTER else (28, 29, 30, 31))


def deal(ref: str, amount: int, category: str, close: date | None, **kw) -> ForecastDeal:
    return ForecastDeal(ref, kw.pop("owner", "rep"), Decimal(amount), category, close, **kw)


DEALS = [
    deal("W1", 100, "closed", date(2026, 10, 20), won_on=date(2026, 10, 20)),   # won in Q4
    deal("W0", 900, "closed", date(2026, 9, 30), won_on=date(2026, 9, 30)),     # won in Q3: not this period
    deal("L1", 700, "closed", date(2026, 11, 1), lost=True),                    # lost: nowhere
    deal("C1", 200, "commit", date(2026, 12, 20)),
    deal("C2", 50, "commit", date(2026, 11, 30)),     # in Q4, but the date has passed: counted and flagged
    deal("C3", 400, "commit", date(2027, 2, 1)),      # commit next quarter: not in Q4, flagged
    deal("C4", 30, "commit", None),                   # commit with no date: flagged, counted nowhere
    deal("B1", 80, "best_case", date(2026, 12, 1)),
    deal("P1", 60, "pipeline", date(2026, 12, 31)),
    deal("P2", 500, "pipeline", date(2027, 3, 31)),   # next period
    deal("P3", 999, "pipeline", date(2027, 4, 1)),    # two quarters out: neither this nor next
    deal("O1", 70, "omitted", date(2026, 12, 15)),    # omitted by its owner
    deal("X1", 40, "pipeline", date(2026, 9, 1)),     # overdue: a Q3 date, still open
]


def test_each_category_counts_only_deals_closing_in_the_period() -> None:
    f = forecast_of(DEALS, Q4, today=TODAY, next_period=Q.next(Q4), target=Decimal(1000))
    assert f.won == 100
    assert f.commit == 200 + 50
    assert f.best_case == 250 + 80                 # best case includes commit
    assert f.pipeline == 330 + 60                  # pipeline includes best case
    assert f.next_period == 400 + 500
    assert f.overdue == 40
    assert f.deals_in_period == 4
    assert f.landing == 350 and f.landing_share == pytest.approx(0.35)
    assert f.remaining == 900 and f.coverage == pytest.approx(390 / 900)
    assert [(x.ref, x.reason) for x in f.flags] == [
        ("C3", FlagReason.OUTSIDE), ("C2", FlagReason.PASSED), ("C4", FlagReason.UNDATED)]


def test_a_deal_closing_next_quarter_counts_in_no_category_of_this_quarter() -> None:
    only_next = [deal(f"N{c}", 1000, c, date(2027, 1, 1)) for c in ("commit", "best_case", "pipeline")]
    f = forecast_of(only_next, Q4, today=TODAY, next_period=Q.next(Q4), target=Decimal(500))
    assert (f.won, f.commit, f.best_case, f.pipeline, f.landing) == (0, 0, 0, 0, 0)
    assert f.coverage == 0 and f.next_period == 3000


def test_no_target_means_no_share_and_a_met_target_no_coverage() -> None:
    f = forecast_of(DEALS, Q4, today=TODAY, next_period=Q.next(Q4))
    assert f.target is None and f.landing_share is None and f.coverage is None
    met = forecast_of(DEALS, Q4, today=TODAY, next_period=Q.next(Q4), target=Decimal(100))
    assert met.remaining == 0 and met.coverage is None and met.landing_share == pytest.approx(3.5)


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(["commit", "best_case", "pipeline", "omitted"]),
                          st.integers(-200, 200)), max_size=30))
def test_commit_within_best_case_within_pipeline(rows) -> None:
    deals = [deal(f"D{i}", a, c, Q4.start + timedelta(days=off)) for i, (a, c, off) in enumerate(rows)]
    f = forecast_of(deals, Q4, today=TODAY, next_period=Q.next(Q4))
    assert 0 <= f.commit <= f.best_case <= f.pipeline
    in_q = sum((d.amount for d in deals if Q4.contains(d.close_date) and d.category != "omitted"), Decimal(0))
    assert f.pipeline == in_q
