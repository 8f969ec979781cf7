"""Each tier's digest section, from plain values (bot/domain/tiers.py)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.domain.coverage import Coverage
from bot.domain.digest import OrgInput, compute
from bot.domain.forecast import ForecastCheck
from bot.domain.org import tiers
from bot.domain.plan import ActivityRatios
from bot.domain.tiers import (
    DigestKind,
    GlobalReport,
    RegionLine,
    best_and_weakest,
    digest_kind,
    first_line_beneath,
    main_currency,
    rolled_up,
    sales_plan,
    signed_figure,
    team_line,
)
from tests.unit.factories import T0, deal, mini_playbook

PB = mini_playbook()
# ceo -> (eu, us); eu -> (uk, de); uk -> (r1, r2); de -> r3; us -> lead -> r4; ceo -> solo (a first-line under the top)
MANAGERS = {"ceo": None, "eu": "ceo", "us": "ceo", "uk": "eu", "de": "eu", "lead": "us", "solo": "ceo",
            "r1": "uk", "r2": "uk", "r3": "de", "r4": "lead", "r5": "solo"}
REPORTS = {"ceo": ["eu", "solo", "us"], "eu": ["de", "uk"], "us": ["lead"], "uk": ["r1", "r2"], "de": ["r3"],
           "lead": ["r4"], "solo": ["r5"]}
TIERS = tiers(MANAGERS)


@pytest.mark.parametrize(("who", "signoff", "kind"), [
    ("ceo", 3, DigestKind.TOP), ("eu", 3, DigestKind.MIDDLE), ("uk", 3, DigestKind.FIRST_LINE),
    ("us", 3, DigestKind.MIDDLE), ("lead", 3, DigestKind.FIRST_LINE), ("solo", 3, DigestKind.FIRST_LINE),
    # Fewer tiers sign off lower down: the same org with sign-off at tier 2 makes eu and us region heads.
    ("eu", 2, DigestKind.REGION), ("us", 2, DigestKind.REGION), ("uk", 2, DigestKind.FIRST_LINE),
    ("ceo", 2, DigestKind.TOP),
])
def test_the_kind_of_digest_comes_from_the_place_in_the_org(who, signoff, kind):
    assert digest_kind(who, MANAGERS, TIERS, signoff) is kind


def test_the_head_of_a_one_team_company_gets_the_first_line_digest():
    """No regions to report on: their job is the team and its sales plan."""
    assert digest_kind("boss", {"boss": None, "rep": "boss"}, {"boss": 1, "rep": 0}, 1) is DigestKind.FIRST_LINE


def test_the_first_line_teams_beneath_a_manager():
    assert first_line_beneath("eu", REPORTS, TIERS) == ["de", "uk"]
    assert first_line_beneath("ceo", REPORTS, TIERS) == ["de", "uk", "solo", "lead"]


def d(ref, owner, stage="a", amount=100, **kw):
    return deal(stage, ref=ref, owner=owner, amount=Decimal(amount), stage_entered_at=T0, **kw)


def test_the_teams_compared_line_by_line_against_hand_computed_numbers():
    # uk: r1 has 1000 in a (10 %) and 2000 in c (70 %, forecast commit), r2 won 500 this week; de: r3 400 in b (40 %),
    # stalled (40 days in b, limit 14).
    deals = [d("D-1", "r1", "a", 1000), d("D-2", "r1", "c", 2000, forecast="commit"),
             d("D-3", "r2", "d", 500), d("D-4", "r3", "b", 400)]
    status = {"r1": "complete", "r2": "pending", "r3": "away"}
    nodes = compute(OrgInput(deals, {}, {}, REPORTS, status), ["ceo"], PB, now=T0 + timedelta(days=40))
    cov = Coverage("2026-Q1", "USD", Decimal(10000), Decimal(500), Decimal(3000), Decimal(1500), True)
    uk = team_line("UK", nodes["uk"].totals, nodes["uk"].concerns, nodes["uk"].checkins, cov, "USD")
    assert (uk.open_count, uk.open_amount, uk.weighted, uk.commit, uk.won) == (
        2, Decimal(3000), Decimal(1500), Decimal(2000), Decimal(500))
    assert (uk.checkins_done, uk.checkins_due) == (1, 2)
    assert uk.cover == pytest.approx(1500 / 9500)
    de_cov = Coverage("2026-Q1", "USD", Decimal(200), Decimal(0), Decimal(400), Decimal(160), True)
    de = team_line("DE", nodes["de"].totals, nodes["de"].concerns, nodes["de"].checkins, de_cov, "USD")
    assert (de.open_count, de.weighted, de.stalled, de.stalled_share) == (1, Decimal(160), 1, 1.0)
    assert (de.checkins_done, de.checkins_due) == (0, 0)  # the only rep is away
    assert de.cover == pytest.approx(0.8)
    best, weakest = best_and_weakest([uk, de])
    assert (best.name, weakest.name) == ("DE", "UK")
    # Without targets there is nothing to compare on.
    bare = team_line("UK", nodes["uk"].totals, nodes["uk"].concerns, nodes["uk"].checkins, None, "USD")
    assert best_and_weakest([bare, de]) == (None, None)


def test_the_sales_plan_works_back_from_the_gap():
    cov = Coverage("2026-Q1", "USD", Decimal(100_000), Decimal(80_000), Decimal(30_000), Decimal(10_000), False)
    plan = sales_plan(cov, average_deal=Decimal(2_000), ratios=ActivityRatios(), working_days=20)
    assert plan.gap == Decimal(10_000)  # 20,000 left, 10,000 of it weighted in the pipeline
    assert plan.plan is not None and (plan.plan.deals, plan.plan.visits, plan.plan.calls) == (5, 60, 120)
    assert plan.plan.visits_a_day == Decimal(3)
    covered = Coverage("2026-Q1", "USD", Decimal(100_000), Decimal(80_000), Decimal(30_000), Decimal(25_000), False)
    assert sales_plan(covered, average_deal=None, ratios=ActivityRatios(), working_days=20).gap == 0


def test_the_region_forecast_rolls_up_and_knows_an_adjusted_sign_off():
    deals = [d("D-1", "r1", "c", 2000, forecast="commit"), d("D-2", "r2", "b", 700, forecast="best_case"),
             d("D-3", "r3", "a", 300), d("D-4", "r3", "a", 50, currency="EUR")]
    nodes = compute(OrgInput(deals, {}, {}, REPORTS, {}), ["ceo"], PB, now=T0)
    f = rolled_up(nodes["eu"].totals, "USD")
    assert (f.commit, f.best_case, f.pipeline) == (Decimal(2000), Decimal(2700), Decimal(3000))
    assert not signed_figure(Decimal(2000), Decimal(2700), "USD", "", f).adjusted
    assert signed_figure(Decimal(1800), Decimal(2700), "USD", "one slips", f).adjusted
    assert signed_figure(Decimal(2000), Decimal(2700), "EUR", "", f).adjusted


def test_figures_are_in_the_reporting_currency_unless_nothing_converts_to_it():
    deals = [d("D-1", "r1", "a", 1000, currency="GBP"), d("D-2", "r3", "a", 400, currency="EUR")]
    nodes = compute(OrgInput(deals, {}, {}, REPORTS, {}), ["ceo"], PB, now=T0)
    assert main_currency(nodes["eu"].totals, "USD") == "GBP"
    assert main_currency(nodes["de"].totals, "USD") == "EUR"
    assert main_currency(nodes["us"].totals, "USD") == "USD"  # nothing open: the reporting currency


def test_the_global_report_adds_up_the_signed_figures():
    last = ForecastCheck(T0.date(), Decimal(1000), Decimal(400), "USD")
    regions = [RegionLine("EU", Decimal(2000), Decimal(2500), "USD", Decimal(2100), "USD", Decimal(100), Decimal(5000),
                          last),
               RegionLine("US", None, None, "USD", Decimal(700), "USD", None, None),
               RegionLine("CN", Decimal(900), Decimal(900), "CNY", Decimal(120), "USD", None, None),  # no rate to USD
               RegionLine("AU", None, None, "USD", Decimal(55), "AUD", None, None)]
    g = GlobalReport("USD", regions, Decimal(9000), Decimal(100))
    assert (g.signed_count, g.signed_total) == (2, Decimal(2000))
    assert g.forecast_total == Decimal(2000 + 700 + 120)  # the unconverted one counts as rolled up; AU has no rate
    assert regions[0].missed and not regions[1].missed
