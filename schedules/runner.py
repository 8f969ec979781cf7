"""The week's steps, run by ``coach tick`` (once, at a given moment) or by ``coach serve``
(every minute, with APScheduler). Both go through the send ledger, so they can run
together, or on several machines, and still send each message once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient

from bot.db.engine import transaction
from bot.db.models import ScheduledSend
from bot.deps import Deps
from bot.domain.cadence import local_week
from bot.services import profiles
from bot.services.digests import ensure_snapshots
from schedules.checkin_steps import checkin_prompts, checkin_reminders
from schedules.digest_steps import digest_charts, manager_digests
from schedules.ledger import RunReport, Step, instance_id, run_due
from schedules.meeting_steps import team_meetings
from schedules.profile_steps import refresh_profiles

log = logging.getLogger("coach.schedule")

# Profiles first: a timezone or deactivation read from Slack counts before anything is scheduled.
# Charts after the digests: drawing them is slow, and a digest's charts follow it once it is out.
STEPS: tuple[Step, ...] = (refresh_profiles, checkin_prompts, checkin_reminders, team_meetings, manager_digests,
                           digest_charts)
# The first place on Earth where a new week begins: snapshots are taken then, before anyone's Monday.
EARLIEST = ZoneInfo("Pacific/Kiritimati")
TICK_EVERY = timedelta(minutes=1)


def take_weekly_snapshots(deps: Deps, now: datetime) -> None:
    """Record every deal as it stands when the week starts, for "what changed since last week"."""
    week = local_week(now, EARLIEST)
    with transaction(deps.sessions) as session:
        if ensure_snapshots(session, week, now=now):
            log.info("took the deal snapshots for the week of %s", week.isoformat())


def tick(deps: Deps, client: WebClient, *, now: datetime | None = None, instance: str | None = None,
         senders: int | None = None) -> RunReport:
    """Run every step that is due at ``now`` (default: the clock's now), once. ``senders=1`` sends
    in order (the demo replays a seeded week, which must not depend on which send lands first)."""
    now = now or deps.clock.now()
    take_weekly_snapshots(deps, now)
    return run_due(deps, client, STEPS, now=now, instance=instance, senders=senders)


def start_scheduler(deps: Deps, client: WebClient) -> BackgroundScheduler:
    """Tick every minute in a background thread; a slow tick is never run twice at once."""
    instance = instance_id()
    scheduler = BackgroundScheduler(timezone="UTC")

    def job() -> None:
        try:
            tick(deps, client, instance=instance)
        except Exception:  # logged, and the next minute tries again
            log.exception("scheduled tick failed")

    scheduler.add_job(job, IntervalTrigger(seconds=int(TICK_EVERY.total_seconds())), id="tick",
                      max_instances=1, coalesce=True,
                      # APScheduler runs in real time; each tick still reads "now" from deps.clock.
                      next_run_time=datetime.now(ZoneInfo("UTC")))
    scheduler.start()
    log.info("scheduler started as %s: every step is checked each minute", instance)
    return scheduler


def profile_issues(deps: Deps) -> list[profiles.ProfileIssue]:
    """Who is deactivated in Slack or has a profile that could not be read, for ``coach status``."""
    with transaction(deps.sessions) as session:
        return profiles.profile_issues(session)


def ledger_rows(deps: Deps, *, since: datetime, until: datetime) -> list[ScheduledSend]:
    """Sends touched from ``since`` up to ``until``, newest first, for ``coach status``."""
    with transaction(deps.sessions) as session:
        rows = session.scalars(sa.select(ScheduledSend)
                               .where(ScheduledSend.updated_at >= since, ScheduledSend.updated_at <= until)
                               .order_by(ScheduledSend.updated_at.desc())).all()
        for r in rows:
            _ = r.recipient.email  # loaded before the session closes
        return list(rows)
