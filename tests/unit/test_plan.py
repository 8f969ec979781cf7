"""The activity plan, periods and working days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.plan import ActivityRatios, activity_plan, parse_period, working_days


def test_the_worked_example_of_the_sales_platform() -> None:
    plan = activity_plan(target=Decimal(100_000), achieved=Decimal(80_000), average_deal=Decimal(2_000),
                         ratios=ActivityRatios(3, 2, 2, 2), working_days=20)
    assert plan.gap == Decimal(20_000)
    assert (plan.deals, plan.customers, plan.proposals, plan.visits, plan.calls) == (10, 30, 60, 120, 240)
    assert (plan.visits_a_day, plan.calls_a_day) == (Decimal(6), Decimal(12))


def test_weighted_pipeline_counts_towards_the_target_and_a_met_target_needs_nothing() -> None:
    plan = activity_plan(target=Decimal(100_000), achieved=Decimal(80_000), average_deal=Decimal(2_000),
                         ratios=ActivityRatios(), working_days=20, weighted_open=Decimal(15_000))
    assert (plan.gap, plan.deals, plan.calls) == (Decimal(5_000), 3, 72)
    done = activity_plan(target=Decimal(100), achieved=Decimal(150), average_deal=Decimal(10),
                         ratios=ActivityRatios(), working_days=5)
    assert (done.gap, done.deals, done.calls, done.on_track) == (0, 0, 0, True)


def test_counts_round_up_and_no_days_left_means_nothing_a_day() -> None:
    plan = activity_plan(target=Decimal(10_001), achieved=Decimal(0), average_deal=Decimal(2_000),
                         ratios=ActivityRatios(1.5, 2, 2, 2), working_days=0)
    assert plan.deals == 6 and plan.customers == 9
    assert plan.visits_a_day == 0
    assert activity_plan(target=Decimal(20), achieved=Decimal(0), average_deal=Decimal(1), ratios=ActivityRatios(),
                         working_days=3).per_day(10) == Decimal("3.4")


@pytest.mark.parametrize("kw", [{"average_deal": Decimal(0)}, {"ratios": ActivityRatios(0, 2, 2, 2)},
                                {"target": Decimal(-1)}])
def test_bad_inputs_are_refused(kw: dict) -> None:
    args = {"target": Decimal(100), "achieved": Decimal(0), "average_deal": Decimal(10),
            "ratios": ActivityRatios(), "working_days": 5, **kw}
    with pytest.raises(ValueError):
        activity_plan(**args)


@given(target=st.integers(0, 10**9), achieved=st.integers(0, 10**9), avg=st.integers(1, 10**6),
       ratios=st.tuples(*[st.floats(0.1, 20)] * 4), days=st.integers(0, 260))
def test_plan_counts_are_whole_never_negative_and_grow_down_the_funnel(target, achieved, avg, ratios, days) -> None:
    plan = activity_plan(target=Decimal(target), achieved=Decimal(achieved), average_deal=Decimal(avg),
                         ratios=ActivityRatios(*ratios), working_days=days)
    assert plan.gap >= 0 and plan.deals * avg >= plan.gap
    counts = [plan.deals, plan.customers, plan.proposals, plan.visits, plan.calls]
    assert all(c >= 0 for c in counts)
    if plan.deals == 0:
        assert counts == [0] * 5
    if days:
        assert plan.visits_a_day * days >= plan.visits


def test_periods() -> None:
    assert (parse_period("2026-11").start, parse_period("2026-11").end) == (date(2026, 11, 1), date(2026, 11, 30))
    q = parse_period("2026-q4")
    assert (q.start, q.end, q.label) == (date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")
    assert parse_period("2028-02").end == date(2028, 2, 29)
    assert parse_period("2026").end == date(2026, 12, 31)
    for bad in ("2026-13", "Q4", "next month", ""):
        with pytest.raises(ValueError, match="2026-Q4"):
            parse_period(bad)


def test_working_days_skip_weekends_and_the_persons_holidays() -> None:
    # November 2026: 21 weekdays.
    assert working_days(date(2026, 11, 1), date(2026, 11, 30)) == 21
    # Germany: 25 December 2026 is a Friday (26th a Saturday), so one weekday off.
    import holidays

    de = holidays.country_holidays("DE", years=2026)
    assert working_days(date(2026, 12, 1), date(2026, 12, 31), is_holiday=lambda d: d in de) == 22
    assert working_days(date(2026, 12, 1), date(2026, 12, 31)) == 23
    assert working_days(date(2026, 12, 5), date(2026, 12, 1)) == 0
