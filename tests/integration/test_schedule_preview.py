"""``coach schedule``: the coming week's messages, to whom, what kind, local time and UTC; nothing sent."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from bot.db.engine import make_engine
from bot.db.models import ScheduledSend
from tests.integration.test_cli import coach  # noqa: F401 - the `coach ARGS` fixture

EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"


def test_schedule_previews_the_week_and_sends_nothing(coach, db_url):  # noqa: F811
    assert coach("init").exit_code == 0
    assert coach("org", "import", str(EXAMPLES / "org.csv")).exit_code == 0
    assert coach("deals", "import", str(EXAMPLES / "deals.csv")).exit_code == 0
    r = coach("schedule", "--week", "2026-12-09")  # a Wednesday: its week starts on Monday the 7th
    assert r.exit_code == 0, r.output
    assert r.output.startswith("The week of 2026-12-07: ")
    # Grace Hopper (New York, tier 4) gets the Friday digest at 09:00 her time, 14:00 UTC.
    assert "Fri 2026-12-11 09:00 America/New_York     (Fri 14:00 UTC)  tier 4 digest" in r.output
    # A rep in London: Monday's prompt at 09:00, which is 09:00 UTC in December.
    assert "Mon 2026-12-07 09:00 Europe/London        (Mon 09:00 UTC)  check-in prompt        Rosalind Franklin" \
        in r.output
    one = coach("schedule", "--week", "2026-12-07", "--as", "rosalind.franklin@example.com")
    assert one.exit_code == 0 and "Rosalind Franklin" in one.output and "Grace Hopper" not in one.output
    eng = make_engine(db_url)
    with eng.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(ScheduledSend)) == 0
    eng.dispose()
    bad = coach("schedule", "--as", "nobody@example.com")
    assert bad.exit_code == 1 and "nobody@example.com is not in the org" in bad.output


def test_fake_slack_runs_with_the_orgs_people_and_says_how_to_use_it(coach):  # noqa: F811
    assert coach("init").exit_code == 0
    empty = coach("fake-slack", "--port", "0", "--once")
    assert empty.exit_code == 1 and "the org is empty" in empty.output
    assert coach("org", "import", str(EXAMPLES / "org.csv")).exit_code == 0
    r = coach("fake-slack", "--port", "0", "--once")
    assert r.exit_code == 0, r.output
    assert "with 46 users (the org's people)" in r.output
    assert "export SLACK_API_URL=http://127.0.0.1:" in r.output and "coach tick" in r.output
