"""``coach schedule``: every message a week will send, to whom, what kind, and when (in the recipient's
local time and in UTC), from the database and the settings. Nothing is sent or written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db.models import Person
from bot.domain.cadence import Cadence, digest_instant, monday_of, weekly_instant
from bot.domain.playbook import Playbook
from bot.services import checkins, local_time


@dataclass(frozen=True)
class Planned:
    at: datetime  # UTC
    local: datetime  # in the recipient's timezone
    kind: str
    person: Person
    note: str = ""


def coming_week(now: datetime) -> date:
    """The Monday of the week to preview by default: next week's (this one's, on a Monday)."""
    today = now.date()
    return today if today.weekday() == 0 else monday_of(today) + timedelta(days=7)


def week_plan(session: so.Session, playbook: Playbook, cadence: Cadence, week: date, *,
              digest_channel: str = "", only: Person | None = None, live_from: datetime | None = None
              ) -> list[Planned]:
    """Every scheduled message of ``week`` (its Monday), in time order."""
    out: list[Planned] = []

    def add(at: datetime, kind: str, person: Person, note: str = "") -> None:
        if only is not None and person.id != only.id:
            return
        if live_from is not None and at < live_from:
            note = (note + "; " if note else "") + "before going live: not sent"
        out.append(Planned(at, at.astimezone(local_time.tz_of(person)), kind, person, note))

    for person in checkins.people_to_prompt(session, playbook):
        pw = local_time.week_of(person, week, cadence)
        away = local_time.is_away(person, pw.prompt_at.astimezone(local_time.tz_of(person)).date())
        add(pw.prompt_at, "check-in prompt", person, "away: not sent" if away else
            (f"moved {pw.shift_days} day(s) for a public holiday" if pw.shift_days else ""))
        digest_at = checkins.manager_digest_at(person, week, cadence)
        for n, at in enumerate(pw.reminders, start=1):
            if digest_at is None or at < digest_at:
                add(at, f"reminder {n}", person, "only if the check-in is not finished")
    managers = session.scalars(sa.select(Person).where(Person.tier > 0).order_by(Person.id))
    for m in managers:
        if not local_time.schedulable(m):
            continue
        tz = local_time.tz_of(m)
        if m.tier == 1 and cadence.meeting is not None:
            add(weekly_instant(week, cadence.meeting, tz), "team meeting list", m, "only if the team has open deals")
        at = digest_instant(week, m.tier, cadence, tz)
        add(at, f"tier {m.tier} digest", m, "charts follow it")
        if digest_channel and m.manager_id is None:
            add(at, "digest to the channel", m, digest_channel)
    return sorted(out, key=lambda p: (p.at, p.kind, p.person.email))
