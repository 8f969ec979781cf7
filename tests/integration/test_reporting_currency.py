"""One reporting currency: `coach rates import`, and digests that total in one currency."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bot.cli import main
from bot.db import repo
from bot.db.models import Deal, ExchangeRate, Person
from bot.domain import money
from bot.imports.csvfile import ImportRefused
from bot.imports.deals_csv import import_deals
from bot.imports.org_csv import import_org
from bot.imports.rates_csv import import_rates
from bot.playbooks.loader import load_playbook
from bot.services.deals import take_snapshots
from bot.services.digests import all_digests

EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"
PB = load_playbook("default")
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
WEEK = date(2026, 11, 23)
RATES = """date,from,to,rate
2026-01-01,EUR,USD,1.10
2026-11-01,EUR,USD,1.08
2026-11-01,GBP,USD,1.27
2026-11-01,CNY,USD,0.14
2026-11-01,AUD,USD,0.65
"""


def test_a_bad_rates_file_lists_every_problem_by_line_and_writes_nothing(session, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(RATES)
    import_rates(session, good, now=NOW)
    bad = tmp_path / "bad.csv"
    bad.write_text("date,from,to,rate\n2026-11-01,EUR,USD,1.09\n2026-13-01,EUR,USD,1.1\n2026-11-02,EURO,USD,1\n"
                   "2026-11-02,GBP,GBP,1\n2026-11-02,GBP,USD,-1\n2026-11-01,EUR,USD,1.07\n")
    with pytest.raises(ImportRefused) as refused:
        import_rates(session, bad, now=NOW)
    assert [(p.line, p.message) for p in refused.value.problems] == [
        (3, "date '2026-13-01' is not a date (use YYYY-MM-DD)"),
        (4, "from 'EURO' is not a currency code (three letters, e.g. EUR)"),
        (5, "from and to are both GBP"),
        (6, "rate '-1' is not a positive number (e.g. 1.08)"),
        (7, "EUR→USD on 2026-11-01 is already given on line 2"),
    ]
    # Nothing written: the EUR rate of 1 Nov is still the good file's.
    assert session.scalar(sa.select(ExchangeRate.rate).where(
        ExchangeRate.from_currency == "EUR", ExchangeRate.valid_from == date(2026, 11, 1))) == Decimal("1.08")
    assert len(list(session.scalars(sa.select(ExchangeRate)))) == 5


def test_digests_total_and_rank_in_one_reporting_currency_and_keep_each_deals_own(session, tmp_path):
    import_org(session, EXAMPLES / "org.csv", now=NOW)
    import_deals(session, EXAMPLES / "deals.csv", PB, now=NOW)
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    import_rates(session, rates, now=NOW)
    take_snapshots(session, WEEK, now=NOW)
    grace = str(session.scalar(sa.select(Person.id).where(Person.email == "grace.hopper@example.com")))
    several = all_digests(session, PB, WEEK, now=NOW)[grace].totals.open_amount
    assert len(several) > 1  # the bundled deals are in several currencies
    node = all_digests(session, PB, WEEK, now=NOW, currency="USD")[grace]
    assert set(node.totals.open_amount) == {"USD"}  # one currency, every line
    table = repo.load_rates(session)
    expected = sum((table.convert(a, c, "USD", NOW.date()) for c, a in several.items()), Decimal(0))
    assert abs(node.totals.open_amount["USD"] - expected) < Decimal(1)  # rounding per deal, not per total
    assert not node.movements.get("amount_changed")  # both sides of the week at the same day's rate
    # Rankings compare like with like: the biggest listed deal is the biggest in USD.
    ranked = sorted(node.top_attention, reverse=True)
    usd = {d.ref: table.convert(d.amount, d.currency, "USD", NOW.date()) for d in session.scalars(sa.select(Deal))}
    assert ranked[0].amount == max(usd[i.ref] for i in ranked)
    # A single deal listed is shown in its own amount and currency.
    big = [i for i in node.top_attention if i.text.endswith(("in Negotiation", "in Shortlisted"))]
    assert {i.text.split()[0] for i in big} - {"USD"}  # e.g. "GBP 120,000 in Shortlisted"
    assert big and all(not i.text.startswith("USD") or session.scalar(
        sa.select(Deal.currency).where(Deal.ref == i.ref)) == "USD" for i in big)
    # The deals themselves keep their own amounts and currencies.
    assert money.total(session.execute(sa.select(Deal.currency, Deal.amount).where(
        Deal.stage.not_in(["won", "lost"]))).all()) == several


def test_coach_rates_import(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    good, bad = tmp_path / "rates.csv", tmp_path / "bad.csv"
    good.write_text(RATES)
    bad.write_text("date,from,to,rate\n2026-11-01,EUR,usd,x\n")
    r = runner.invoke(main, ["rates", "import", str(good)])
    assert r.exit_code == 0 and "5 added, 0 replaced" in r.output
    r = runner.invoke(main, ["rates", "import", str(good)])
    assert r.exit_code == 0 and "0 added, 5 replaced" in r.output
    r = runner.invoke(main, ["rates", "import", str(bad)])
    assert r.exit_code == 1 and "bad.csv:2: rate 'x' is not a positive number" in r.output
    assert "nothing was imported" in r.output and "Traceback" not in r.output
