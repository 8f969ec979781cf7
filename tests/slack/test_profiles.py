"""People's Slack profiles read ahead of time (`coach org sync` and the scheduler's daily
refresh), end to end: the `coach` command against a fake Slack over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from click.testing import CliRunner

from bot.cli import main
from bot.clock import FixedClock
from bot.config import load_settings
from bot.db.engine import transaction
from bot.db.models import Person
from bot.deps import build_deps
from bot.fakeslack import FakeSlack
from bot.services.profiles import sync_profiles
from bot.slack.client import web_client
from bot.slack.directory import SlackProfiles
from tests.slack.conftest import TOKEN
from tests.slack.harness import all_text

ORG = """email,name,manager_email,slack_user_id,timezone,country
boss@x.io,Bo Ss,,,America/New_York,US
syd@x.io,Syd Ney,boss@x.io,,,AU
paris@x.io,Pia Paris,boss@x.io,,Europe/Paris,FR
gone@x.io,Go Ne,boss@x.io,,,GB
ghost@x.io,Gho St,boss@x.io,,,US
notz@x.io,No Tz,boss@x.io,,,US
"""
SUNDAY_22_UTC = "2026-11-29T22:05Z"  # Monday 09:05 in Sydney
MONDAY_NY = "2026-11-30T14:05Z"  # Monday 09:05 in New York, 15:05 in Paris
TUESDAY_NY = "2026-12-01T14:05Z"  # the tier-1 digest in New York


@pytest.fixture
def org(db_url, tmp_path, monkeypatch):
    """The org imported, its people in a fake Slack; returns (run coach ARGS, fake)."""
    with FakeSlack(expected_token=TOKEN) as fake:
        fake.add_user("U0BOSS", email="boss@x.io", name="boss", tz="America/New_York")
        fake.add_user("U0SYD", email="syd@x.io", name="syd", tz="Australia/Sydney")
        fake.add_user("U0PARIS", email="paris@x.io", name="paris", tz="America/New_York")  # the org file wins
        fake.add_user("U0GONE", email="gone@x.io", name="gone", tz="Europe/London", deleted=True)
        fake.add_user("U0NOTZ", email="notz@x.io", name="notz", tz=None)
        # ghost@x.io has no Slack account
        monkeypatch.setenv("DATABASE_URL", db_url)
        monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("SLACK_API_URL", fake.base_url)
        monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
        for var in ("COACH_PLAYBOOK", "COACH_CONFIG", "COACH_ADMINS", "COACH_DIGEST_CHANNEL"):
            monkeypatch.delenv(var, raising=False)
        runner = CliRunner()

        def run(*args: str):
            return runner.invoke(main, list(args), catch_exceptions=False)

        (tmp_path / "org.csv").write_text(ORG)
        assert run("init").exit_code == 0
        r = run("org", "import", str(tmp_path / "org.csv"))
        assert r.exit_code == 0, r.output
        fake.clear()
        yield run, fake


def people(db_url: str) -> dict[str, Person]:
    engine = sa.create_engine(db_url)
    try:
        with so.Session(engine, expire_on_commit=False) as s:
            return {p.email: p for p in s.scalars(sa.select(Person))}
    finally:
        engine.dispose()


def dm_recipients(fake: FakeSlack) -> set[str]:
    return {c.params["channel"] for c in fake.messages()}


def test_org_sync_fills_ids_and_timezones_marks_deactivated_and_lists_what_it_cannot_read(org, db_url):
    run, fake = org
    r = run("org", "sync")
    assert r.exit_code == 1, r.output  # some profiles could not be read: said, not hidden
    assert "6 profiles read with users.info/users.lookupByEmail: 5 updated, 1 deactivated, 2 could not be read" \
        in r.output
    assert "syd@x.io: Slack id U0SYD, timezone (none) -> Australia/Sydney" in r.output
    assert "gone@x.io: deactivated in Slack, gets nothing" in r.output
    assert "not read: ghost@x.io: no Slack account has the email ghost@x.io" in r.output
    assert "not read: notz@x.io: Slack profile of notz@x.io has no usable timezone (none set)" in r.output
    ps = people(db_url)
    assert (ps["syd@x.io"].slack_user_id, ps["syd@x.io"].timezone) == ("U0SYD", "Australia/Sydney")
    assert (ps["paris@x.io"].slack_user_id, ps["paris@x.io"].timezone) == ("U0PARIS", "Europe/Paris")
    assert ps["gone@x.io"].deactivated and not ps["syd@x.io"].deactivated
    assert ps["ghost@x.io"].timezone is None and ps["ghost@x.io"].slack_user_id is None  # nothing defaulted
    assert ps["notz@x.io"].timezone is None
    assert len(fake.calls_to("users.lookupByEmail")) == 6

    # Slack ids are known now: the next sync reads each profile by id, and follows a move.
    fake.clear()
    fake.update_user("U0SYD", tz="Asia/Tokyo")
    fake.update_user("U0PARIS", tz="Asia/Tokyo")
    r = run("org", "sync")
    assert "syd@x.io: timezone Australia/Sydney -> Asia/Tokyo" in r.output
    assert "paris@x.io" not in r.output  # the org file's timezone is kept
    assert people(db_url)["syd@x.io"].timezone == "Asia/Tokyo"
    assert {c.params["user"] for c in fake.calls_to("users.info")} == {"U0BOSS", "U0SYD", "U0PARIS", "U0GONE",
                                                                       "U0NOTZ"}

    # A reactivated account is followed too; the org file's timezone, set later, wins over Slack's.
    fake.update_user("U0GONE", deleted=False)
    r = run("org", "sync")
    assert "gone@x.io: active again in Slack" in r.output
    assert not people(db_url)["gone@x.io"].deactivated


def test_deactivated_and_unplaceable_people_get_nothing_and_show_in_status_and_the_digest(org, db_url):
    run, fake = org
    # No `coach org sync`: the scheduler's first step reads the profiles before anything is scheduled.
    r = run("tick", "--at", SUNDAY_22_UTC)
    assert r.exit_code == 0, r.output
    assert dm_recipients(fake) == {"U0SYD"}  # Monday 09:05 in Sydney, not on UTC's clock
    assert fake.calls_to("users.lookupByEmail")
    r = run("tick", "--at", MONDAY_NY)
    assert r.exit_code == 0, r.output
    assert dm_recipients(fake) == {"U0SYD", "U0PARIS"}  # not the deactivated one, nor those unplaceable
    r = run("tick", "--at", TUESDAY_NY)
    assert r.exit_code == 0, r.output
    digest = fake.messages("U0BOSS")
    assert len(digest) == 1
    text = all_text(digest[0].params["blocks"])
    assert "Go Ne" in text and "check-in: deactivated" in text
    r = run("status")
    assert "people the schedule leaves out or cannot place (3):" in r.output
    assert "gone@x.io" in r.output and "deactivated in Slack: gets nothing" in r.output
    assert "no Slack account has the email ghost@x.io" in r.output
    assert "Slack profile of notz@x.io has no usable timezone" in r.output


def test_daily_refresh_follows_a_move_a_day_later_and_not_before(org, db_url):
    run, fake = org
    assert run("tick", "--at", "2026-11-27T10:00Z").exit_code == 0
    read = len(fake.calls_to("users.lookupByEmail")) + len(fake.calls_to("users.info"))
    assert read == 6
    fake.update_user("U0SYD", tz="Europe/Berlin")
    assert run("tick", "--at", "2026-11-27T20:00Z").exit_code == 0  # same day: not read again
    assert len(fake.calls_to("users.info")) == 0
    assert people(db_url)["syd@x.io"].timezone == "Australia/Sydney"
    assert run("tick", "--at", "2026-11-28T10:01Z").exit_code == 0  # a day later
    assert len(fake.calls_to("users.info")) == 5
    assert people(db_url)["syd@x.io"].timezone == "Europe/Berlin"


def test_a_large_org_pages_through_users_list_once(org, db_url):
    _run, fake = org
    settings = load_settings()
    deps = build_deps(settings, clock=FixedClock(datetime(2026, 11, 27, tzinfo=UTC)))
    with transaction(deps.sessions) as s:
        report = sync_profiles(s, SlackProfiles(web_client(settings), page=2), now=deps.clock.now(),
                               one_by_one_up_to=3)
    assert report.by == "users.list"
    assert not fake.calls_to("users.lookupByEmail") and not fake.calls_to("users.info")
    pages = fake.calls_to("users.list")
    assert [c.params.get("cursor") for c in pages] == [None, "2", "4"]  # 5 members, 2 a page
    assert sorted(report.deactivated) == ["gone@x.io"]
    assert sorted(e for e, _ in report.problems) == ["ghost@x.io", "notz@x.io"]
    ps = people(db_url)
    assert (ps["syd@x.io"].slack_user_id, ps["syd@x.io"].timezone) == ("U0SYD", "Australia/Sydney")


def test_a_slack_error_is_the_reason_given_not_a_default(org, db_url):
    run, fake = org
    fake.error_next("users.lookupByEmail", "missing_scope", times=6)
    r = run("org", "sync")
    assert r.exit_code == 1
    assert "not read: syd@x.io: Slack could not be asked: users.lookupByEmail answered missing_scope" in r.output
    assert people(db_url)["syd@x.io"].timezone is None
