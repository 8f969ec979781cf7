"""Targets, activity and a person's numbers from stored history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bot.cli import main
from bot.db.models import Person, Target
from bot.domain.plan import parse_period
from bot.domain.stats import Source
from bot.imports.csvfile import ImportRefused
from bot.imports.targets_csv import import_targets
from bot.playbooks.loader import load_playbook
from bot.services import targets
from bot.services.deals import NewDeal, create_deal, move_deal
from bot.services.numbers import numbers_for
from tests.integration.test_cli import coach  # noqa: F401 - the `coach ARGS` fixture

PB = load_playbook("default")
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)  # a Monday


def _org(session) -> dict[str, Person]:
    boss = Person(email="boss@x.io", name="Boss", tier=1, created_at=NOW, updated_at=NOW)
    ann = Person(email="ann@x.io", name="Ann", manager=boss, country="DE", created_at=NOW, updated_at=NOW)
    bob = Person(email="bob@x.io", name="Bob", manager=boss, created_at=NOW, updated_at=NOW)
    session.add_all([boss, ann, bob])
    session.flush()
    return {"boss": boss, "ann": ann, "bob": bob}


def _history(session, people) -> None:
    """Bob: 10 deals over two quarters (6 reach prospect, 3 interested, 2 won, 1 lost).
    Ann: 2 deals of her own (too few for her own ratios), one won this month."""
    start = NOW - timedelta(days=150)
    for i in range(10):
        d = create_deal(session, NewDeal(f"B{i}", "Acme", people["bob"], Decimal(10_000), "EUR", "target"), PB,
                        now=start + timedelta(days=i))
        if i < 6:
            move_deal(session, d, "prospect", PB, now=start + timedelta(days=10 + 2 * i), by=None, override=True, reason="history")
        if i < 3:
            move_deal(session, d, "interested", PB, now=start + timedelta(days=30 + i), by=None, override=True, reason="history")
        if i < 2:
            move_deal(session, d, "won", PB, now=start + timedelta(days=60 + 10 * i), by=None, override=True, reason="history")
        if i == 2:
            move_deal(session, d, "lost", PB, now=start + timedelta(days=70), by=None, reason="no budget")
    a = create_deal(session, NewDeal("A1", "Beta", people["ann"], Decimal(4_000), "EUR", "target"), PB,
                    now=NOW - timedelta(days=40))
    move_deal(session, a, "won", PB, now=NOW - timedelta(days=10), by=None, override=True, reason="history")
    create_deal(session, NewDeal("A2", "Gamma", people["ann"], Decimal(6_000), "EUR", "negotiation"), PB,
                now=NOW - timedelta(days=5))
    session.flush()


def test_a_reps_numbers_fall_back_to_the_team_and_plan_to_the_period_end(session):
    people = _org(session)
    _history(session, people)
    targets.set_target(session, people["ann"], parse_period("2026-11"), Decimal(20_000), "EUR", by=None, now=NOW)
    targets.record_activity(session, people["ann"], date(2026, 11, 16), visits=7, calls=15, proposals=2, now=NOW)
    n = numbers_for(session, PB, people["ann"], now=NOW)
    # Ann has 2 deals: her ratios come from the team (Ann and Bob: 11 were in target, 7 of them went on
    # to prospect; A2, created straight into negotiation, was never in target and does not count there).
    first = n.stage_ratios[0]
    assert (first.source, first.sample, first.value) == (Source.TEAM, 11, 11 / 7)
    assert n.conversions[0].reached_from == 1  # her own counts are still shown
    assert n.outcomes.won == 1 and n.outcomes.win_rate == 1.0 and n.outcomes.average_deal == {"EUR": Decimal(4000)}
    assert (n.achieved, n.open_amount, n.weighted) == (Decimal(4_000), Decimal(6_000), Decimal(4_800))
    assert n.remaining == Decimal(16_000) and n.coverage(n.weighted) == pytest.approx(0.3)
    # 16,000 left, 4,800 weighted: 11,200 at 4,000 a deal = 3 deals; team's 11 customers per 3 won = 1 : 3.67.
    assert n.activity_ratios["customers_per_deal"].value == pytest.approx(11 / 3) and n.plan.deals == 3
    assert n.plan.customers == 11
    # 23-30 November in Germany: 6 working days (no public holiday).
    assert n.working_days_left == 6 and n.plan.working_days == 6
    assert (n.last_week.visits, n.last_week.calls, n.last_week.proposals) == (7, 15, 2)
    times = {t.stage: t for t in n.times}
    # Bob's six left target after 10..15 days, Ann's won one after 30: median 13.
    assert (times["target"].sample, times["target"].median) == (7, 13)
    assert [s.value for _, s in n.scores] == sorted((s.value for _, s in n.scores), reverse=True)


def test_a_manager_is_measured_against_the_sum_of_the_teams_targets(session):
    people = _org(session)
    _history(session, people)
    for who, amount in (("ann", 20_000), ("bob", 30_000)):
        targets.set_target(session, people[who], parse_period("2026-11"), Decimal(amount), "EUR", by=None, now=NOW)
    t = targets.target_for(session, people["boss"], date(2026, 11, 23))
    assert (t.amount, t.currency, t.summed) == (Decimal(50_000), "EUR", True)
    targets.set_target(session, people["boss"], parse_period("2026-Q4"), Decimal(1), "EUR", by=None, now=NOW)
    targets.set_target(session, people["boss"], parse_period("2026-11"), Decimal(45_000), "EUR", by=None, now=NOW)
    t = targets.target_for(session, people["boss"], date(2026, 11, 23))
    assert (t.amount, t.summed, t.period) == (Decimal(45_000), False, "2026-11")  # own, and the month before the quarter
    n = numbers_for(session, PB, people["boss"], now=NOW)
    assert n.is_manager and n.stage_ratios[0].source is Source.TEAM
    assert n.achieved == Decimal(4_000)  # won this month across the team (Bob's wins were in the summer)


def test_targets_import_refuses_a_bad_file_whole_and_replaces_on_reimport(session, tmp_path):
    _org(session)
    bad = tmp_path / "targets.csv"
    bad.write_text("email,period,amount,currency\nann@x.io,2026-11,20000,EUR\nghost@x.io,2026-11,1,EUR\n"
                   "bob@x.io,November,x,euro\nann@x.io,2026-11,5,EUR\n", encoding="utf-8")
    with pytest.raises(ImportRefused) as e:
        import_targets(session, bad, now=NOW)
    report = e.value.report()
    assert "targets.csv:3: unknown person ghost@x.io" in report
    assert "targets.csv:4: period 'November' is not a month (2026-11)" in report
    assert "targets.csv:4: amount 'x' is not a number" in report and "targets.csv:4: currency 'euro'" in report
    assert "targets.csv:5: a second target for ann@x.io in 2026-11 (first on line 2)" in report
    assert session.scalar(sa.select(sa.func.count()).select_from(Target)) == 0
    good = tmp_path / "good.csv"
    good.write_text("email,period,amount,currency\nANN@x.io,2026-11,20000,eur\nbob@x.io,2026-Q4,90,000,EUR\n",
                    encoding="utf-8")
    with pytest.raises(ImportRefused, match="1 problem"):
        import_targets(session, good, now=NOW)  # an unquoted thousands separator is one field too many
    good.write_text('email,period,amount,currency\nANN@x.io,2026-11,20000,eur\nbob@x.io,2026-Q4,"90,000",EUR\n',
                    encoding="utf-8")
    r = import_targets(session, good, now=NOW)
    assert (r.created, r.updated) == (2, 0)
    good.write_text("email,period,amount,currency\nann@x.io,2026-11,25000,EUR\n", encoding="utf-8")
    assert import_targets(session, good, now=NOW).updated == 1
    rows = {(t.person.email, t.period): (t.amount, t.currency, t.ends) for t in session.scalars(sa.select(Target))}
    assert rows == {("ann@x.io", "2026-11"): (Decimal(25_000), "EUR", date(2026, 11, 30)),
                    ("bob@x.io", "2026-Q4"): (Decimal(90_000), "EUR", date(2026, 12, 31))}


def test_coach_plan_prints_the_worked_example():
    r = CliRunner().invoke(main, ["plan", "--target", "100000", "--achieved", "80%", "--average-deal", "2000",
                                  "--ratios", "3,2,2,2", "--working-days", "20"])
    assert r.exit_code == 0, r.output
    for line in ("Still to win: 20,000. At 2,000 a deal, that is 10 deals:", "→ 30 target customers",
                 "→ 60 proposals", "→ 120 visits", "→ 240 calls", "Over 20 working days: 6 visits and 12 calls a day"):
        assert line in r.output
    bad = CliRunner().invoke(main, ["plan", "--target", "lots", "--average-deal", "2000"])
    assert bad.exit_code == 2 and "'lots': give an amount from 0" in bad.output and "Traceback" not in bad.output
    # Numbers Decimal reads as finite but no arithmetic survives: refused like any other bad amount.
    for option, value in (("--target", "1e400"), ("--average-deal", "1e-400"), ("--pipeline", "1e16"),
                          ("--achieved", "1e400%"), ("--ratios", "3,2,2,1e400"), ("--ratios", "3,2,inf,2")):
        args = {"--target": "100000", "--average-deal": "2000", option: value}
        bad = CliRunner().invoke(main, ["plan", *[x for kv in args.items() for x in kv]])
        assert bad.exit_code == 2 and "Traceback" not in bad.output and option in bad.output, (option, bad.output)


def test_coach_targets_import_and_report(coach, tmp_path):  # noqa: F811 - the imported fixture
    from pathlib import Path

    examples = Path(__file__).parents[2] / "bot" / "examples"
    assert coach("init").exit_code == 0
    coach("org", "import", str(examples / "org.csv"))
    coach("deals", "import", str(examples / "deals.csv"))
    f = tmp_path / "t.csv"
    f.write_text("email,period,amount,currency\ntommy.flowers@example.com,2026-13,1,GBP\n", encoding="utf-8")
    r = coach("targets", "import", str(f))
    assert r.exit_code == 1 and "t.csv:2: period '2026-13'" in r.output and "nothing was imported" in r.output
    # The CLI's report is for the period the machine's clock is in, so the target is for this year.
    year = datetime.now(UTC).year
    f.write_text(f"email,period,amount,currency\ntommy.flowers@example.com,{year},100000,GBP\n", encoding="utf-8")
    r = coach("targets", "import", str(f))
    assert r.exit_code == 0 and "1 added" in r.output
    r = coach("report", "--as", "tommy.flowers@example.com")
    assert r.exit_code == 0, r.output
    assert f"Target {year}: GBP 100,000" in r.output and "Conversion (last 182 days" in r.output
    assert "Lead scores" in r.output and "Time in stage" in r.output
    r = coach("report", "--as", "tommy.flowers@example.com", "--csv")
    assert r.exit_code == 0 and r.output.startswith(f"section,key,value,detail\ntarget,{year},100000.00,GBP")
    r = coach("report", "--as", "nobody@example.com")
    assert r.exit_code == 1 and "nobody@example.com is not in the org" in r.output


def test_deals_in_other_currencies_count_at_the_companys_rates(session, tmp_path):
    """Ann's pipeline in EUR plus a GBP deal: without rates the GBP deal is left out (and said so);
    with the company's rates it counts in EUR in the sums, the funnel and the week's bridge."""
    from bot.imports.rates_csv import import_rates
    from bot.services.charts import funnel_data, week_bridge
    from bot.services.deals import take_snapshots

    people = _org(session)
    _history(session, people)
    create_deal(session, NewDeal("A3", "Delta", people["ann"], Decimal(1_000), "GBP", "negotiation"), PB,
                now=NOW - timedelta(days=3))
    targets.set_target(session, people["ann"], parse_period("2026-11"), Decimal(20_000), "EUR", by=None, now=NOW)
    session.flush()
    before = numbers_for(session, PB, people["ann"], now=NOW)
    assert (before.open_amount, before.open_elsewhere) == (Decimal(6_000), 1)
    assert "1 open deal in other currencies not shown." in funnel_data(before, PB).note

    rates = tmp_path / "rates.csv"
    rates.write_text("date,from,to,rate\n2026-01-01,GBP,EUR,1.15\n")
    import_rates(session, rates, now=NOW)
    take_snapshots(session, date(2026, 11, 23), now=NOW)
    session.flush()
    after = numbers_for(session, PB, people["ann"], now=NOW)
    assert (after.open_amount, after.open_elsewhere) == (Decimal(7_150), 0)
    assert after.weighted == Decimal("5720.00")  # negotiation weighs 80 %: (6,000 + 1,150) × 0.8
    negotiation = dict((k, (count, amount)) for k, count, amount in after.open_by_stage)["negotiation"]
    assert negotiation == (2, Decimal(7_150))
    assert "other currencies" not in funnel_data(after, PB).note
    bridge = week_bridge(session, [people["ann"].id], date(2026, 11, 23), PB, "EUR")
    assert bridge is not None and bridge.start == bridge.end == Decimal(7_150)  # both sides at one rate
