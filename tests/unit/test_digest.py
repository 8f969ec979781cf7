from datetime import date, timedelta
from decimal import Decimal

from bot.domain.digest import OrgInput, compute, ranked
from bot.domain.waterfall import Snapshot
from tests.unit.factories import T0, deal, mini_playbook

PB = mini_playbook()
# top -> m1 -> (r1, r2); top -> m2 -> r3
REPORTS = {"top": ["m1", "m2"], "m1": ["r1", "r2"], "m2": ["r3"]}


def d(ref, owner, stage="a", amount=100, **kw):
    return deal(stage, ref=ref, owner=owner, amount=Decimal(amount), stage_entered_at=T0, **kw)


def test_each_manager_sees_exactly_their_subtree():
    deals = [d("D-1", "r1", amount=10), d("D-2", "r2", amount=20), d("D-3", "r3", amount=40), d("D-4", "m1", amount=1)]
    nodes = compute(OrgInput(deals, {}, {}, REPORTS, {}), ["top"], PB, now=T0)
    assert nodes["m1"].totals.open_amount == {"USD": Decimal(31)}
    assert nodes["m2"].totals.open_amount == {"USD": Decimal(40)}
    assert nodes["top"].totals.open_amount == {"USD": Decimal(71)}
    assert nodes["r3"].totals.open_count == 1
    assert {i.ref for i in nodes["m2"].top_movements} == {"D-3"}  # all new; nothing from m1's branch


def test_waterfall_attention_and_checkins_roll_up():
    last = {"D-1": Snapshot("D-1", "a", Decimal(10), "USD", date(2027, 1, 1), "pipeline"),
            "D-3": Snapshot("D-3", "b", Decimal(40), "USD", None, "pipeline")}
    deals = [d("D-1", "r1", stage="b", amount=10), d("D-3", "r3", stage="lost", amount=40)]
    status = {"r1": "complete", "r2": "away", "r3": "pending"}
    nodes = compute(OrgInput(deals, last, {}, REPORTS, status), ["top"], PB, now=T0 + timedelta(days=40))
    top = nodes["top"]
    assert top.movements == {"advanced": 1, "lost": 1}
    assert top.checkins == {"complete": 1, "away": 1, "pending": 1}
    assert nodes["m1"].checkins == {"complete": 1, "away": 1}
    assert top.last_week.open_amount == {"USD": Decimal(50)}
    assert top.concerns["stalled"] == 1  # D-1: 40 days in b (limit 14)
    assert [i.ref for i in ranked(top.top_movements)] == ["D-3", "D-1"]  # largest first


def test_lists_keep_only_the_largest_few():
    deals = [d(f"D-{i}", "r1", amount=i) for i in range(1, 101)]
    nodes = compute(OrgInput(deals, {}, {}, REPORTS, {}), ["top"], PB, now=T0)
    kept = ranked(nodes["top"].top_movements)
    assert [i.ref for i in kept] == [f"D-{i}" for i in range(100, 90, -1)]
    assert nodes["top"].movements == {"new": 100}


def test_won_this_week_counts_only_deals_closed_since_the_snapshot():
    from decimal import Decimal

    from bot.domain.digest import OrgInput, compute
    from bot.domain.waterfall import Snapshot
    from tests.unit.factories import T0, deal, mini_playbook

    pb = mini_playbook()
    won = pb.won.key
    deals = [deal(won, ref="D-1", owner="r", amount=Decimal(100)),  # won weeks ago
             deal(won, ref="D-2", owner="r", amount=Decimal(40)),  # won this week
             deal("b", ref="D-3", owner="r", amount=Decimal(7))]
    last = {"D-1": Snapshot("D-1", won, Decimal(100), "USD", None, "closed"),
            "D-2": Snapshot("D-2", "b", Decimal(40), "USD", None, "pipeline"),
            "D-3": Snapshot("D-3", "b", Decimal(7), "USD", None, "pipeline")}
    node = compute(OrgInput(deals, last, {}, {"m": ["r"]}, {}), ["m"], pb, now=T0)["m"]
    assert node.totals.won.count == 1 and node.totals.won.amount == {"USD": Decimal(40)}


def test_a_deal_with_several_flags_is_listed_once_with_all_of_them():
    # D-1 is stalled (40 days in b, limit 14) and misses BANT answers and a buying role.
    deals = [d("D-1", "r1", stage="b", amount=10), d("D-2", "r1", stage="b", amount=5)]
    nodes = compute(OrgInput(deals, {}, {}, REPORTS, {}), ["top"], PB, now=T0 + timedelta(days=40))
    top = nodes["top"]
    assert top.concerns == {"stalled": 2, "gaps": 2}  # every flag is counted
    items = ranked(top.top_attention)
    assert [i.ref for i in items] == ["D-1", "D-2"]  # but each deal is one line
    assert "40 days in B (limit 14)" in items[0].text and "missing BANT need" in items[0].text
    assert "; " in items[0].text


def test_an_item_is_worded_once_when_first_read_and_equals_one_worded_at_once():
    from bot.domain.digest import Item
    from bot.domain.waterfall import Attention, Concern

    calls = []

    def word(row):
        calls.append(row)
        return (Attention(row, Concern.QUIET, "no update for 3 weeks"), Attention(row, Concern.OVERDUE, "next step due"))

    lazy = Item(Decimal(500), "D-1", "7", word=word, of="D-1", deal_id=1)
    assert calls == []  # nothing worded until read
    assert lazy.text == "no update for 3 weeks; next step due"
    assert [a.concern for a in lazy.parts] == [Concern.QUIET, Concern.OVERDUE]
    assert calls == ["D-1"]  # once
    eager = Item(Decimal(500), "D-1", "7", "no update for 3 weeks; next step due", parts=word("D-1"))
    assert lazy == eager and not (lazy < eager) and Item(Decimal(400), "D-2", "7") < lazy
