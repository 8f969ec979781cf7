"""Coverage against targets: own target first, else the team's added up; wins in the period only."""

from datetime import date
from decimal import Decimal

from bot.domain.coverage import TargetFact, WonFact, coverage
from bot.domain.plan import parse_period

NOV, Q4 = parse_period("2026-11"), parse_period("2026-Q4")


def test_own_target_shortest_period_and_wins_in_it():
    targets = {"m": [TargetFact("m", Q4, Decimal(900), "EUR"), TargetFact("m", NOV, Decimal(300), "EUR")]}
    won = {"r": [WonFact("r", Decimal(50), "EUR", date(2026, 11, 3)), WonFact("r", Decimal(70), "EUR", date(2026, 10, 30)),
                 WonFact("r", Decimal(10), "USD", date(2026, 11, 4))]}
    c = coverage("m", ["r"], targets, won, {"EUR": Decimal(500)}, {"EUR": Decimal(125)})
    assert (c.period, c.target, c.won, c.remaining, c.summed) == ("2026-11", 300, 50, 250, False)
    assert (c.open_ratio, c.weighted_ratio) == (2.0, 0.5)


def test_a_manager_without_a_target_gets_the_teams_sum_and_none_without_any():
    targets = {"a": [TargetFact("a", NOV, Decimal(100), "EUR")], "b": [TargetFact("b", NOV, Decimal(200), "EUR"),
                                                                     TargetFact("b", Q4, Decimal(1), "EUR")]}
    c = coverage("m", ["a", "b"], targets, {}, {}, {})
    assert (c.target, c.summed, c.open, c.open_ratio) == (300, True, 0, 0.0)
    assert coverage("m", ["x"], targets, {}, {}, {}) is None
    met = coverage("a", [], targets, {"a": [WonFact("a", Decimal(150), "EUR", date(2026, 11, 2))]}, {}, {})
    assert met.remaining == 0 and met.open_ratio is None
