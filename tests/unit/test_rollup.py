from decimal import Decimal

from bot.domain import money
from bot.domain.rollup import totals
from tests.unit.factories import deal, mini_playbook

PB = mini_playbook()


def test_totals_weight_by_stage_probability_and_keep_currencies_apart():
    deals = [
        deal("a", ref="D-1", amount=Decimal(1000), currency="USD"),
        deal("b", ref="D-2", amount=Decimal(2000), currency="USD", forecast="best_case"),
        deal("c", ref="D-3", amount=Decimal(500), currency="EUR", forecast="commit"),
        deal("d", ref="D-4", amount=Decimal(9999), currency="USD"),
        deal("lost", ref="D-5", amount=Decimal(7777), currency="USD"),
    ]
    t = totals(deals, PB)
    assert t.open_count == 3
    assert t.open_amount == {"USD": Decimal(3000), "EUR": Decimal(500)}
    assert t.weighted == {"USD": Decimal("900.00"), "EUR": Decimal("350.00")}  # 10% of 1000 + 40% of 2000; 70% of 500
    assert t.by_stage["b"].count == 1 and t.by_stage["d"].count == 0
    assert t.by_forecast["commit"].amount == {"EUR": Decimal(500)}
    assert (t.won.count, t.lost.count) == (1, 1)
    assert money.fmt(t.open_amount) == "USD 3,000 + EUR 500"
    assert money.fmt({}) == "0"


def test_team_rollup_covers_the_subtree_and_splits_by_direct_report():
    from bot.domain.rollup import team_rollup

    reports = {"m": ["r1", "m2"], "m2": ["r2"], "other": ["r9"]}
    by_owner = {
        "m": [deal("a", ref="D-1", amount=Decimal(1))],
        "r1": [deal("b", ref="D-2", amount=Decimal(10))],
        "r2": [deal("c", ref="D-3", amount=Decimal(100)), deal("lost", ref="D-4", amount=Decimal(5))],
        "r9": [deal("a", ref="D-9", amount=Decimal(1000))],  # sibling branch: must not leak in
    }
    t = team_rollup(by_owner, reports, "m", PB)
    assert t.total.open_amount == {"USD": Decimal(111)}
    assert t.own.open_amount == {"USD": Decimal(1)}
    assert t.by_report["r1"].open_amount == {"USD": Decimal(10)}
    assert t.by_report["m2"].open_amount == {"USD": Decimal(100)}
    assert t.by_report["m2"].lost.count == 1
    assert set(t.by_report) == {"r1", "m2"}
