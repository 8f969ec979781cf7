from datetime import date
from decimal import Decimal

from bot.domain.rates import Rate, Rates

RATES = Rates([
    Rate(date(2026, 1, 1), "EUR", "USD", Decimal("1.10")),
    Rate(date(2026, 7, 1), "EUR", "USD", Decimal("1.20")),
    Rate(date(2026, 1, 1), "CNY", "USD", Decimal("0.14")),
])


def test_the_rate_in_force_on_the_day_is_used():
    assert RATES.convert(Decimal(100), "EUR", "USD", date(2026, 6, 30)) == Decimal("110.00")
    assert RATES.convert(Decimal(100), "EUR", "USD", date(2026, 7, 1)) == Decimal("120.00")
    assert RATES.convert(Decimal(100), "EUR", "USD", date(2025, 12, 31)) is None  # before any rate


def test_inverse_and_through_a_common_currency():
    assert RATES.convert(Decimal(120), "USD", "EUR", date(2026, 8, 1)) == Decimal("100.00")
    # CNY 250,000 and USD 250,000 no longer tie: CNY is worth USD 35,000.
    assert RATES.convert(Decimal(250_000), "CNY", "USD", date(2026, 8, 1)) == Decimal("35000.00")
    assert RATES.convert(Decimal(1200), "EUR", "CNY", date(2026, 8, 1)) == Decimal("10285.71")
    assert RATES.convert(Decimal(5), "GBP", "USD", date(2026, 8, 1)) is None
    assert RATES.convert(Decimal(5), "GBP", "GBP", date(2026, 8, 1)) == Decimal("5.00")


def test_forecast_against_actual_is_flagged_beyond_the_margin():
    from bot.domain.forecast import off_by_more_than

    assert not off_by_more_than(Decimal(100), Decimal(85), 20)
    assert off_by_more_than(Decimal(100), Decimal(79), 20) and off_by_more_than(Decimal(100), Decimal(121), 20)
    assert off_by_more_than(Decimal(0), Decimal(5), 20) and not off_by_more_than(Decimal(0), Decimal(0), 20)
