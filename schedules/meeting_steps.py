"""Cadence step for Monday's team meeting: after the check-ins, each first-line manager gets the
list of their team's important deals to review one by one, each with **Action plan**."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot import i18n
from bot.db.models import Person
from bot.deps import Deps
from bot.domain.cadence import in_window, local_week, weekly_instant
from bot.render.blocks import as_dicts, fallback_text
from bot.render.meeting import meeting_blocks
from bot.services import digests, local_time, meeting
from bot.services.access import actor_for
from schedules.outgoing import Outgoing, SendKey, SlackIds

MEETING = "team_meeting"


def team_meetings(deps: Deps, session: so.Session, *, now: datetime,
                  done: Callable[[SendKey], bool] = lambda key: False) -> list[Outgoing]:
    """The meeting list for every first-line manager whose meeting time (``COACH_MEETING``, in
    their own timezone) has come, once a week; a manager whose team has no open deal gets none."""
    cadence = deps.settings.cadence
    if cadence.meeting is None:
        return []
    slack_ids = SlackIds(deps)
    out: list[Outgoing] = []
    for manager in session.scalars(sa.select(Person).where(Person.tier == 1).order_by(Person.id)):
        if not local_time.schedulable(manager):
            continue
        tz = local_time.tz_of(manager)
        week = local_week(now, tz)
        key = SendKey(week, MEETING, manager.id)
        at = weekly_instant(week, cadence.meeting, tz)
        if done(key) or not in_window(at, now, cadence.grace):
            continue
        actor = actor_for(session, manager, deps.settings.admins)
        rows, count = meeting.team_meeting(
            session, actor, manager, deps.playbook, now=now,
            currency=digests.reporting_currency(manager, deps.settings.reporting_currency))
        if not rows:
            continue
        channel = slack_ids.of(session, manager, "team meeting")
        if not channel:
            continue
        with i18n.language(slack_ids.language(session, manager)) as lang:  # the manager's language
            blocks = meeting_blocks(manager.name, rows, count, deps.playbook, lang=lang)
        out.append(Outgoing(key, at, channel, fallback_text(blocks), as_dicts(blocks)))
    return out
