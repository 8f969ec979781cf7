from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.cadence import (
    Cadence,
    WeeklyTime,
    digest_instant,
    in_window,
    local_instant,
    local_week,
    personal_week,
    stale_bant,
    working_day_on_or_after,
)

C = Cadence()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "week", "expected_utc"),
    [
        ("Europe/Paris", date(2026, 11, 23), utc(2026, 11, 23, 8)),  # CET, UTC+1
        ("America/New_York", date(2026, 11, 23), utc(2026, 11, 23, 14)),  # EST, UTC-5
        ("Australia/Sydney", date(2026, 11, 23), utc(2026, 11, 22, 22)),  # AEDT: still Sunday in UTC
        ("Asia/Shanghai", date(2026, 11, 23), utc(2026, 11, 23, 1)),
    ],
)
def test_prompt_is_monday_nine_local(tz, week, expected_utc):
    assert personal_week(week, C, ZoneInfo(tz)).prompt_at == expected_utc


def test_daylight_saving_weeks_keep_nine_local():
    ny, paris = ZoneInfo("America/New_York"), ZoneInfo("Europe/Paris")
    # US clocks went back on Sunday 2026-11-01: EDT (UTC-4) the week before, EST (UTC-5) after.
    assert personal_week(date(2026, 10, 26), C, ny).prompt_at == utc(2026, 10, 26, 13)
    assert personal_week(date(2026, 11, 2), C, ny).prompt_at == utc(2026, 11, 2, 14)
    # Europe went back on Sunday 2026-10-25: CEST (UTC+2) before, CET (UTC+1) after.
    assert personal_week(date(2026, 10, 19), C, paris).prompt_at == utc(2026, 10, 19, 7)
    assert personal_week(date(2026, 10, 26), C, paris).prompt_at == utc(2026, 10, 26, 8)
    # Spring forward in the US: Sunday 2027-03-14.
    assert personal_week(date(2027, 3, 15), C, ny).prompt_at == utc(2027, 3, 15, 13)


def test_a_wall_time_inside_the_spring_gap_resolves_after_it():
    ny = ZoneInfo("America/New_York")
    at = local_instant(date(2027, 3, 14), time(2, 30), ny)  # 02:30 does not exist that Sunday
    assert at == utc(2027, 3, 14, 7, 30)
    assert (at.astimezone(ny).hour, at.astimezone(ny).minute) == (3, 30)
    # A company that checks in on Sundays keeps Sunday: weekends are skipped only for weekday cadences.
    c = Cadence(checkin=WeeklyTime(6, time(10)))
    assert personal_week(date(2027, 3, 8), c, ny).prompt_at == utc(2027, 3, 14, 14)


def test_reminders_follow_the_prompt_and_holidays_move_both():
    paris = ZoneInfo("Europe/Paris")
    pw = personal_week(date(2026, 11, 23), C, paris)
    assert pw.reminders == (utc(2026, 11, 23, 14), utc(2026, 11, 24, 7))
    # Easter Monday 2027-03-29 is a holiday in France: prompt Tuesday 09:00, reminders a day later.
    holiday = {date(2027, 3, 29)}
    pw = personal_week(date(2027, 3, 29), C, paris, lambda d: d in holiday)
    assert pw.shift_days == 1
    assert pw.prompt_at == utc(2027, 3, 30, 7)  # CEST
    assert pw.reminders == (utc(2027, 3, 30, 13), utc(2027, 3, 31, 6))


def test_working_day_skips_weekends_and_runs_of_holidays():
    hol = {date(2026, 12, 25), date(2026, 12, 28)}
    assert working_day_on_or_after(date(2026, 12, 25), lambda d: d in hol) == date(2026, 12, 29)


def test_digest_days_by_tier_and_top_tiers_share_the_last_day():
    ny = ZoneInfo("America/New_York")
    week = date(2026, 11, 23)
    assert digest_instant(week, 1, C, ny) == utc(2026, 11, 24, 14)  # Tuesday
    assert digest_instant(week, 2, C, ny) == utc(2026, 11, 25, 14)
    assert digest_instant(week, 4, C, ny) == utc(2026, 11, 27, 14)  # Friday
    assert digest_instant(week, 6, C, ny) == utc(2026, 11, 27, 14)  # above the top: Friday too


def test_window_and_local_week():
    at = utc(2026, 11, 23, 8)
    assert in_window(at, at, timedelta(hours=12))
    assert not in_window(at, at - timedelta(seconds=1), timedelta(hours=12))
    assert not in_window(at, at + timedelta(hours=12), timedelta(hours=12))
    # Sunday 23:30 UTC is already Monday in Sydney.
    assert local_week(utc(2026, 11, 22, 23, 30), ZoneInfo("Australia/Sydney")) == date(2026, 11, 23)
    assert local_week(utc(2026, 11, 22, 23, 30), ZoneInfo("America/New_York")) == date(2026, 11, 16)


def test_weekly_time_parsing():
    assert WeeklyTime.parse("Tue 08:30") == WeeklyTime(1, time(8, 30))
    assert str(WeeklyTime.parse("friday 17:00")) == "fri 17:00"
    with pytest.raises(ValueError, match="like 'mon 09:00'"):
        WeeklyTime.parse("someday")


def test_stale_bant():
    now = utc(2026, 11, 23)
    confirmed = {"budget": now - timedelta(weeks=9), "need": now - timedelta(weeks=1), "authority": None}
    assert stale_bant(confirmed, ("budget", "authority", "need", "timeline"), now, 8) == ("budget", "authority", "timeline")


def test_checkin_questions_ask_only_what_matters():
    from bot.domain.checkin import Status, questions_for, status_of
    from bot.domain.deal import BantAnswer, DealFacts
    from bot.playbooks.loader import load_playbook

    pb = load_playbook("default")
    now = utc(2026, 11, 23, 9)
    fresh = BantAnswer("yes", now - timedelta(weeks=1))
    old = BantAnswer("yes", now - timedelta(weeks=20))
    d = DealFacts(ref="D-1", name="x", stage="project", bant={"budget": fresh, "need": old, "authority": BantAnswer(" ", now)},
                  roles={"coach": ("Cleo",)})
    q = questions_for(d, pb, now=now, stale_weeks=8)
    assert q.stage.key == "project" and q.next_stage.key == "shortlisted"
    assert [c.key for c in q.characteristics] == [c.key for c in pb.stage("project").characteristics]
    assert q.bant == ("authority", "need", "timeline")  # budget is fresh; a blank answer counts as unanswered
    assert q.roles == ("economic_buyer",)  # the coach is named; project's gate also needs the economic buyer
    assert status_of(0, 3, away=False) is Status.PENDING
    assert status_of(2, 3, away=False) is Status.PARTIAL
    assert status_of(3, 3, away=False) is Status.COMPLETE
    assert status_of(0, 0, away=True) is Status.AWAY
