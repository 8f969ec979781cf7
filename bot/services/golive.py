"""Going live: the first tick after an install or an import sends nothing that fell due before it,
and deals that arrive mid-week join the week's snapshot as they are (its baseline), so the first
digest shows no "new" deals and no change "vs last week" against nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db.models import Deal, DealSnapshot, GoLive
from bot.domain.cadence import local_week

SCHEDULE = "schedule"
# The first place on Earth where a new week begins (as the scheduler takes the week's snapshots).
EARLIEST = ZoneInfo("Pacific/Kiritimati")


def mark_live(session: so.Session, *, now: datetime, why: str) -> None:
    """From ``now`` on, the schedule starts fresh: what fell due before ``now`` is not sent."""
    row = session.get(GoLive, SCHEDULE)
    if row is None:
        session.add(GoLive(name=SCHEDULE, at=now, why=why))
    else:
        row.at, row.why = max(row.at, now), why
    baseline_snapshots(session, now=now)
    session.flush()


def live_since(session: so.Session) -> GoLive | None:
    return session.get(GoLive, SCHEDULE)


def baseline_snapshots(session: so.Session, *, now: datetime) -> int:
    """Deals missing from a week's snapshot already taken (this week's and last week's, as timezones
    differ) join it as they stand now: they arrived mid-week, so they are its baseline, not news."""
    added = 0
    this_week = local_week(now, EARLIEST)
    for week in (this_week - timedelta(days=7), this_week):
        if not session.scalar(sa.select(sa.func.count()).select_from(DealSnapshot).where(DealSnapshot.week == week)):
            continue  # not taken yet: the scheduler takes it whole
        have = sa.select(DealSnapshot.deal_id).where(DealSnapshot.week == week)
        for deal in session.scalars(sa.select(Deal).where(Deal.id.not_in(have))):
            session.add(DealSnapshot(deal_id=deal.id, week=week, stage=deal.stage, amount=deal.amount,
                                     currency=deal.currency, close_date=deal.close_date, forecast=deal.forecast,
                                     taken_at=now))
            added += 1
    return added
