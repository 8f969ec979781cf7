"""`/pipeline currency`: a manager's digests in one currency of their choice."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.db.engine import transaction
from bot.imports.rates_csv import import_rates
from tests.slack.harness import all_text, wait_reply

TIM = "tim.bernerslee@example.com"  # a first-line manager
ADA = "ada.lovelace@example.com"


def run(coach, text: str, who: str) -> str:
    answer, url = coach.slack.command("/pipeline", text, user=coach.uid(who))
    assert answer.status == 200 and answer.body == ""
    return all_text(wait_reply(coach.fake, url)["blocks"])


def test_a_manager_chooses_the_currency_their_digest_totals_in(coach, tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("date,from,to,rate\n2026-01-01,EUR,USD,1.08\n2026-01-01,GBP,USD,1.27\n2026-01-01,CNY,USD,0.14\n"
                     "2026-01-01,AUD,USD,0.65\n2026-01-01,JPY,USD,0.0067\n")
    with transaction(coach.deps.sessions) as s:
        import_rates(s, rates, now=datetime(2026, 11, 1, tzinfo=UTC))
    assert "Your digests total in *USD* (the workspace's reporting currency)" in run(coach, "currency", ADA)
    assert "isn't a currency code" in run(coach, "currency euros", ADA)
    assert "your digests total in *GBP*" in run(coach, "currency gbp", ADA)
    assert coach.person(ADA).reporting_currency == "GBP"
    digest = run(coach, "digest", ADA)
    pipeline_line = next(line for line in digest.splitlines() if "Open pipeline" in line)
    assert re.search(r"GBP [\d,]+", pipeline_line) and " + " not in pipeline_line  # one currency
    assert "USD" not in pipeline_line and "EUR" not in pipeline_line
    run(coach, "currency default", ADA)
    assert coach.person(ADA).reporting_currency is None
    pipeline_line = next(line for line in run(coach, "digest", ADA).splitlines() if "Open pipeline" in line)
    assert "USD" in pipeline_line and " + " not in pipeline_line
