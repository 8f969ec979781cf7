"""Deals at risk: one reason each, ranked by money, counts that match the list."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.risk import RiskFacts, RiskReason, RiskRules, at_risk
from bot.playbooks.loader import load_playbook

TODAY = date(2026, 12, 4)
PB = load_playbook("default")
RULES = RiskRules.from_playbook(PB)
SAFE = RiskFacts(ref="D-1", name="Cloud", account="Acme", owner="rep", team="t1", amount=Decimal(1000),
                 stage="interested", stage_index=PB.index("interested"), category="pipeline", stalled=False,
                 close_date=TODAY + timedelta(days=30), slips=0, next_step_date=TODAY + timedelta(days=3),
                 has_economic_buyer=False)


def at(stage: str, **kw) -> RiskFacts:
    return replace(SAFE, stage=stage, stage_index=PB.index(stage), **kw)


def test_the_rules_come_from_the_playbook() -> None:
    assert RULES.horizon == {"shortlisted": 90}
    assert RULES.buyer_from == PB.index("project")  # leaving Project approved needs the economic buyer
    industrial = RiskRules.from_playbook(load_playbook("industrial"))
    assert industrial.horizon == {} and industrial.buyer_from == 2


def test_each_signal_and_its_order() -> None:
    cases = {
        RiskReason.COMMIT_STALLED: at("negotiation", category="commit", stalled=True, close_date=TODAY - timedelta(1)),
        RiskReason.CLOSE_PASSED: at("interested", close_date=TODAY - timedelta(days=1), slips=3),
        RiskReason.SLIPPED: at("interested", slips=2, next_step_date=None),
        RiskReason.NO_NEXT_STEP: at("interested", next_step_date=TODAY - timedelta(days=1)),
        RiskReason.TOO_FAR_OUT: at("shortlisted", close_date=TODAY + timedelta(days=91), has_economic_buyer=False),
        RiskReason.NO_ECONOMIC_BUYER: at("shortlisted", has_economic_buyer=False),
    }
    for reason, d in cases.items():
        assert [i.reason for i in at_risk([d], RULES, today=TODAY).items] == [reason], reason
    # Not at risk: a stalled deal that is not commit is the digest's stalled list, not money at risk;
    # Shortlisted 90 days out is within its marker; Project approved itself is where the buyer is named.
    calm = [SAFE, at("interested", stalled=True), at("shortlisted", close_date=TODAY + timedelta(days=90),
                                                     has_economic_buyer=True), at("project")]
    assert at_risk(calm, RULES, today=TODAY).count == 0


def test_ranked_by_money_capped_with_more_and_counted_whole() -> None:
    deals = [replace(at("interested", next_step_date=None), ref=f"D-{i}", amount=Decimal(a), team=t)
             for i, (a, t) in enumerate([(8_000, "t1"), (250_000, "t2"), (120_000, "t1"), (9_000, "t2"),
                                         (5, "t1"), (70_000, "t3"), (1, "t3")])]
    risks = at_risk(deals, RULES, today=TODAY)
    shown, more = risks.top(5)
    assert [d.deal.amount for d in shown] == [250_000, 120_000, 70_000, 9_000, 8_000] and more == 2
    assert risks.count == 7 and risks.amount == 457_006
    big, rest = risks.top(5, at_least=Decimal(50_000))
    assert len(big) == 3 and rest == 4
    assert risks.by_team() == {"t2": (2, 259_000), "t1": (3, 128_005), "t3": (2, 70_001)}
    assert risks.by_reason() == {RiskReason.NO_NEXT_STEP: 7}


@given(st.lists(st.tuples(st.integers(0, 10**7), st.booleans(), st.integers(-30, 200), st.integers(0, 3),
                          st.sampled_from(["interested", "project", "shortlisted", "negotiation"])), max_size=25))
def test_the_list_is_sorted_by_money_and_each_deal_appears_once(rows) -> None:
    deals = [at(stage, ref=f"D-{i}", amount=Decimal(a), stalled=stalled, category="commit" if stage == "negotiation"
                else "pipeline", close_date=TODAY + timedelta(days=days), slips=slips)
             for i, (a, stalled, days, slips, stage) in enumerate(rows)]
    risks = at_risk(deals, RULES, today=TODAY)
    amounts = [i.deal.amount for i in risks.items]
    assert amounts == sorted(amounts, reverse=True)
    assert len({i.deal.ref for i in risks.items}) == risks.count
    assert sum(risks.by_reason().values()) == risks.count == sum(n for n, _ in risks.by_team().values())
