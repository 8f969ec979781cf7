"""Each tier's digest is for what that tier does, through the real app and signed Slack requests:
the first-line sales plan, the second-line teams compared, the region head's forecast to sign off,
the top's global report with each region's signed-off figure and last period's forecast against actual."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import CheckIn, Deal, Person
from bot.domain.plan import parse_period
from bot.imports.rates_csv import import_rates
from bot.render.ids import Action, View
from bot.services import targets
from bot.services.deals import move_deal
from bot.services.digests import save_comment
from tests.slack.harness import all_text, buttons, digest, select, text_input, wait_call, wait_reply

EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"
TIM = "tim.bernerslee@example.com"  # first-line (reps beneath)
EMMY = "emmy.noether@example.com"  # second-line: Konrad's and Marie's teams
ADA = "ada.lovelace@example.com"  # region head (tier 3)
KATHERINE = "katherine.johnson@example.com"  # region head
GRACE = "grace.hopper@example.com"  # the top
RATES = {"EUR": Decimal("1.16"), "GBP": Decimal("1.33"), "CNY": Decimal("0.140"), "AUD": Decimal("0.65"),
         "USD": Decimal(1)}  # bot/examples/rates.csv in force in November 2026


def setup_company(coach) -> None:
    """The company's rates, and a 2026-Q4 target of 200,000 for every rep in their own currency."""
    with transaction(coach.deps.sessions) as s:
        import_rates(s, EXAMPLES / "rates.csv", now=datetime(2026, 11, 1, tzinfo=UTC))
        for rep in s.scalars(sa.select(Person).where(Person.tier == 0, Person.email.like("%@example.com"))):
            currency = s.scalar(sa.select(sa.func.min(Deal.currency)).where(Deal.owner_id == rep.id))
            if currency:
                targets.set_target(s, rep, parse_period("2026-Q4"), Decimal(200_000), currency, by=None,
                                   now=datetime(2026, 10, 1, tzinfo=UTC))


def usd(amount: Decimal, currency: str) -> Decimal:
    return (amount * RATES[currency]).quantize(Decimal("0.01")).quantize(Decimal(1))


def test_each_tier_opens_its_digest_with_its_own_section(coach):
    setup_company(coach)
    tim = all_text(digest(coach, TIM))
    first = tim.splitlines()[1]
    assert first.startswith("*Sales plan 2026-Q4* (the team's targets added up): target USD ")
    assert "To close it: " in tim and "working days left, each day: visits " in tim
    assert "*Your team*" in tim  # the team consolidated, rep by rep
    emmy = all_text(digest(coach, EMMY))
    assert emmy.splitlines()[1] == "*Your teams compared*"
    assert "• *Konrad Zuse*" in emmy and "• *Marie Curie*" in emmy and "*Your team*" not in emmy
    assert "Best covered: " in emmy and ":trophy:" in emmy and ":warning:" in emmy
    ada = digest(coach, ADA)
    assert all_text(ada).splitlines()[1].startswith("*Your region's forecast, to sign off*: commit USD ")
    assert set(buttons(ada)) == {Action.DIGEST_SIGNOFF, Action.DIGEST_ADJUST}
    assert Action.DIGEST_COMMENT in buttons(digest(coach, TIM))
    top = digest(coach, GRACE)
    assert buttons(top) == {}  # nobody above the top reads a comment: no button asks for one
    grace = all_text(top)
    assert grace.splitlines()[1] == "*Global report: each region's signed-off forecast*"
    assert grace.count(":hourglass: not signed off yet") == 3


def test_the_teams_compared_add_up_to_what_their_deals_hold(coach):
    """Each team's line against the same numbers computed here from the deals, converted by hand."""
    setup_company(coach)
    with transaction(coach.deps.sessions) as s:  # Konrad's four reps: one done, one halfway, one away, one not yet
        konrad = s.scalar(sa.select(Person).where(Person.name == "Konrad Zuse"))
        reps = s.scalars(sa.select(Person).where(Person.manager_id == konrad.id).order_by(Person.id)).all()
        for rep, status in zip(reps, ("complete", "partial", "away", "pending"), strict=True):
            s.add(CheckIn(person_id=rep.id, week=date(2026, 11, 23), status=status, updated_at=coach.clock.now()))
    checkins = {"Konrad Zuse": "1/3", "Marie Curie": "–/–"}  # nobody in Marie's team asked yet
    text = all_text(digest(coach, EMMY))
    with transaction(coach.deps.sessions) as s:
        for lead in ("Konrad Zuse", "Marie Curie"):
            boss = s.scalar(sa.select(Person).where(Person.name == lead))
            deals = s.scalars(sa.select(Deal).join(Person, Person.id == Deal.owner_id)
                              .where(Person.manager_id == boss.id, Deal.stage.not_in(["won", "lost"]))).all()
            amount = sum((usd(d.amount, d.currency) for d in deals), Decimal(0))
            weighted = sum((usd(d.amount * coach.deps.playbook.stage(d.stage).probability / 100, d.currency)
                            for d in deals), Decimal(0))
            line = next(line for line in text.splitlines() if line.startswith(f"• *{lead}*"))
            got = re.search(r": (\d+) open · USD ([\d,]+) · weighted USD ([\d,]+) · commit USD [\d,]+ · won this week "
                            r"USD [\d,]+ · coverage ([\d.]+)× · stalled \d+% · check-ins (\S+)( :trophy:| :warning:)?$", line)
            assert got, line
            assert int(got.group(1)) == len(deals)
            assert abs(Decimal(got.group(2).replace(",", "")) - amount) <= len(deals)  # each deal rounded once
            assert abs(Decimal(got.group(3).replace(",", "")) - weighted) <= len(deals)
            assert got.group(5) == checkins[lead]
            # Coverage: weighted pipeline over what is left of the reps' summed targets, less what they won.
            target = sum((usd(Decimal(200_000), c) for c in s.scalars(
                sa.select(sa.func.min(Deal.currency)).join(Person, Person.id == Deal.owner_id)
                .where(Person.manager_id == boss.id).group_by(Person.id))), Decimal(0))
            won = sum((usd(d.amount, d.currency) for d in s.scalars(
                sa.select(Deal).join(Person, Person.id == Deal.owner_id)
                .where(Person.manager_id == boss.id, Deal.stage == "won"))), Decimal(0))
            left = target - won
            assert float(got.group(4)) == round(float(Decimal(got.group(3).replace(",", "")) / left), 1)


def test_the_top_sees_each_regions_signed_figure_and_last_weeks_forecast_against_actual(coach):
    setup_company(coach)
    # Last week Ada signed off 300,000 USD; her region won one deal since: far less than forecast.
    with transaction(coach.deps.sessions) as s:
        ada = s.scalar(sa.select(Person).where(Person.email == ADA))
        save_comment(s, ada, date(2026, 11, 16), text="", commit=Decimal(300_000), best_case=Decimal(400_000),
                     currency="USD", now=datetime(2026, 11, 19, 9, tzinfo=UTC), signed_off=True)
        deal = s.scalar(sa.select(Deal).join(Person, Person.id == Deal.owner_id)
                        .where(Person.email == "joan.clarke@example.com", Deal.stage == "negotiation"))
        move_deal(s, deal, "won", coach.deps.playbook, now=datetime(2026, 11, 18, 15, tzinfo=UTC), by=None,
                  reason="signed", override=True)
        won = usd(deal.amount, deal.currency)
    # Ada signs off with one click, Katherine adjusts with a comment; Wang does neither.
    said = all_text(wait_reply(coach.fake, coach.slack.click(
        Action.DIGEST_SIGNOFF, buttons(digest(coach, ADA))[Action.DIGEST_SIGNOFF]["value"], user=coach.uid(ADA))[1])
        ["blocks"])
    ada_commit = re.search(r"commit USD ([\d,]+), best case", said).group(1)
    adjust = buttons(digest(coach, KATHERINE))[Action.DIGEST_ADJUST]
    coach.slack.click(adjust["action_id"], adjust["value"], user=coach.uid(KATHERINE))
    view = wait_call(coach.fake, "views.open", lambda c: c.params["view"]["callback_id"] == View.DIGEST_COMMENT
                     and "adjust" in c.params["view"]["private_metadata"]).params["view"]
    rolled = next(b for b in view["blocks"] if b.get("block_id") == "commit")["element"]["initial_value"]
    assert Decimal(rolled) > 0  # the form starts from the figure as rolled up
    assert coach.slack.submit(view, {"comment": text_input("One renewal moves to January"),
                                     "commit": text_input("150000"), "best_case": text_input("210000"),
                                     "currency": select("USD")}, user=coach.uid(KATHERINE)).status == 200
    assert "You signed off an adjusted figure: commit USD 150,000" in all_text(digest(coach, KATHERINE))
    assert "You signed off the figure as rolled up" in all_text(digest(coach, ADA))
    top = all_text(digest(coach, GRACE))
    report = top.split("*Global report", 1)[1].split("*Total*", 1)[0]
    lines = {line.split("*")[1]: line for line in report.splitlines() if line.startswith("• *")}
    assert f":white_check_mark: signed off: commit USD {ada_commit}" in lines["Ada Lovelace"]
    assert f"week of 16 Nov: forecast USD 300,000, won USD {won:,.0f} :warning:" in lines["Ada Lovelace"]
    assert ":white_check_mark: signed off: commit USD 150,000, best case USD 210,000" in lines["Katherine Johnson"]
    assert ":hourglass: not signed off yet (commit as rolled up: USD " in lines["Wang Zhenyi"]
    total = Decimal(ada_commit.replace(",", "")) + 150_000
    assert f"*Total*: 2 of 3 regions signed off, USD {total:,.0f}" in top
    # Ada is asked the review's questions; her answers reach the top's digest.
    own = digest(coach, ADA)
    assert "*Forecast against actual, week of 16 Nov*: you forecast USD 300,000" in all_text(own)
    review = buttons(own)[Action.FORECAST_REVIEW]
    coach.slack.click(review["action_id"], review["value"], user=coach.uid(ADA))
    form = wait_call(coach.fake, "views.open",
                     lambda c: c.params["view"]["callback_id"] == View.FORECAST_REVIEW).params["view"]
    assert coach.slack.submit(form, {"review__wrong": text_input("We signed off two deals still in legal"),
                                     "review__unknown": text_input("Who signs at the customer"),
                                     "review__misled": text_input("No"),
                                     "review__next_steps": text_input("Commit only what procurement confirmed")},
                              user=coach.uid(ADA)).status == 200
    top = all_text(digest(coach, GRACE))
    assert "*Forecast reviews from your managers*" in top
    assert "• *Ada Lovelace*: forecast USD 300,000" in top and "Wrong: We signed off two deals still in legal" in top


def test_the_region_reads_its_reports_forecasts_in_its_own_currency(coach):
    """Alan gives his forecast in CNY; Ada's region section shows it in USD at the company's rate."""
    setup_company(coach)
    today = coach.deps.clock.now().date()
    with transaction(coach.deps.sessions) as s:
        alan = s.scalar(sa.select(Person).where(Person.email == "alan.turing@example.com"))
        save_comment(s, alan, today - timedelta(days=today.weekday()), text="Two renewals", commit=Decimal(100_000),
                     best_case=Decimal(250_000), currency="CNY", now=coach.deps.clock.now())
    region = all_text(digest(coach, ADA)).split("Open pipeline", 1)[0]
    assert "• *Alan Turing*: commit USD 14,000, best case USD 35,000" in region, region
    assert "CNY" not in region
