"""Monday's team meeting list is sent on the schedule: after the check-ins, once, to each first-line manager."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import ScheduledSend
from tests.slack.harness import all_text
from tests.slack.test_weekly_digests import ORG, WEEK, org, uid  # noqa: F401 - the org fixture

FIRST_LINE = ("berlin", "madrid", "denver")


def meetings(org, key: str) -> list:  # noqa: F811
    return [c for c in org.fake.messages(uid(key)) if all_text(c.params.get("blocks")).startswith("Team meeting")]


def test_first_line_managers_get_the_meeting_list_at_their_local_meeting_time_once(org):  # noqa: F811
    # Two instances tick side by side through Monday and Tuesday morning.
    org.replay(datetime(2026, 11, 22, 12, tzinfo=UTC), datetime(2026, 11, 24, 12, tzinfo=UTC), instances=("a", "b"),
               every=timedelta(minutes=15))
    for key in FIRST_LINE:
        (sent,) = meetings(org, key)
        text = all_text(sent.params["blocks"])
        name = next(n for k, n, _, _ in ORG if k == key)
        assert text.startswith(f"Team meeting · {name}")
        team = [n for k, n, m, _ in ORG if m == key]
        assert all(person in text for person in team)  # the team's deals, with their owners
        assert "Action plan" in str(sent.params["blocks"])
    for key in ("top", "emea", "emea_slm", "rep_b1"):  # only first-line managers hold the meeting
        assert meetings(org, key) == []
    with transaction(org.deps.sessions) as s:
        rows = s.scalars(sa.select(ScheduledSend).where(ScheduledSend.step == "team_meeting")).all()
    assert len(rows) == 3 and all(r.status == "sent" for r in rows)
    # Sent at 16:00 local on Monday: Berlin is UTC+1, Denver UTC-7 in November.
    due = {r.due_at.astimezone(UTC) for r in rows}
    assert due == {datetime(2026, 11, 23, 16, tzinfo=ZoneInfo(tz)).astimezone(UTC)
                   for k, _, _, tz in ORG if k in FIRST_LINE}
    assert all(r.sent_at.astimezone(UTC) >= r.due_at.astimezone(UTC) for r in rows)


def test_the_meeting_list_can_be_turned_off(org):  # noqa: F811
    org.deps.settings = org.deps.settings.with_(cadence=org.deps.settings.cadence.__class__(meeting=None))
    org.replay(datetime(2026, 11, 23, 12, tzinfo=UTC), datetime(2026, 11, 24, 6, tzinfo=UTC))
    assert all(meetings(org, key) == [] for key in FIRST_LINE)
    assert WEEK.weekday() == 0
