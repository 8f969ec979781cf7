"""Managers' calls: the one in force, its trend, and how close it came once the period closed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.domain.calls import Call, accuracy, call_in_force, current_call, trend

T = datetime(2026, 10, 5, 9, tzinfo=UTC)


def call(author: str, period: str, commit: int, days: int) -> Call:
    return Call(author, period, Decimal(commit), Decimal(commit * 2), "USD", T + timedelta(days=days))


CALLS = [call("ann", "2026-Q4", 100, 0), call("ann", "2026-Q4", 140, 14), call("ann", "2026-Q4", 120, 42),
         call("bob", "2026-Q4", 500, 7), call("ann", "2027-Q1", 900, 50), call("ann", "2026-Q3", 80, -30)]


def test_the_latest_call_of_the_period_is_current_and_earlier_ones_are_kept() -> None:
    assert current_call(CALLS, "ann", "2026-Q4").commit == 120
    assert current_call(CALLS, "ann", "2027-Q2") is None
    assert call_in_force(CALLS, "ann", "2026-Q4", T + timedelta(days=20)).commit == 140
    assert call_in_force(CALLS, "ann", "2026-Q4", T - timedelta(days=1)) is None


def test_the_trend_is_the_call_in_force_each_monday() -> None:
    mondays = [T - timedelta(weeks=1) + timedelta(weeks=i) for i in range(8)]
    assert trend(CALLS, "ann", "2026-Q4", mondays) == [None, 100, 100, 140, 140, 140, 140, 120]


def test_accuracy_uses_the_last_call_before_the_period_ended() -> None:
    a = accuracy(CALLS, "ann", "2026-Q4", ended=date(2026, 12, 31), won=Decimal(100))
    assert (a.called, a.won, a.bias) == (120, 100, 20) and a.error == pytest.approx(0.2)
    early = accuracy(CALLS, "ann", "2026-Q4", ended=(T + timedelta(days=20)).date(), won=Decimal(70))
    assert early.called == 140 and early.error == pytest.approx(1.0)
    assert accuracy(CALLS, "cid", "2026-Q4", ended=date(2026, 12, 31), won=Decimal(5)) is None
    assert accuracy(CALLS, "bob", "2026-Q4", ended=date(2026, 12, 31), won=Decimal(0)).error is None
