"""Cadence steps for the Monday check-in: the prompt, and reminders to who hasn't finished.

Each step is a plain function ``step(deps, session, *, now) -> list[Outgoing]``:
it decides what is due at ``now`` for each person in their own timezone, and
the ledger sends each message exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot import i18n
from bot.db.models import CheckIn, Person
from bot.deps import Deps
from bot.domain.cadence import in_window
from bot.domain.checkin import Status
from bot.render import checkin as render
from bot.render.blocks import as_dicts, fallback_text
from bot.services import checkins, local_time
from schedules.outgoing import Outgoing, SendKey, SlackIds

log = logging.getLogger("coach.checkin")
PROMPT = "checkin_prompt"


def reminder_step(n: int) -> str:
    return f"checkin_reminder_{n}"


def _remember_prompt(person_id: int, week: date, now: datetime) -> Callable[[so.Session, str, str], None]:
    def on_sent(session: so.Session, channel: str, ts: str) -> None:
        person = session.get(Person, person_id)
        assert person is not None
        checkin = checkins.get_checkin(session, person, week, now=now)
        checkin.prompt_channel, checkin.prompt_ts, checkin.prompted_at = channel, ts, now
        checkin.updated_at = now

    return on_sent


def _nothing_done(key: SendKey) -> bool:
    return False


def checkin_prompts(deps: Deps, session: so.Session, *, now: datetime,
                    done: Callable[[SendKey], bool] = _nothing_done) -> list[Outgoing]:
    """Each rep's Monday prompt, at the cadence time in their timezone (moved past public holidays)."""
    cadence, playbook = deps.settings.cadence, deps.playbook
    slack_ids = SlackIds(deps)
    out: list[Outgoing] = []
    for person in checkins.people_to_prompt(session, playbook):
        week = local_time.current_week(person, now)
        pw = local_time.week_of(person, week, cadence)
        key = SendKey(week, PROMPT, person.id)
        if done(key) or not in_window(pw.prompt_at, now, cadence.grace):
            continue
        if local_time.is_away(person, pw.prompt_at.astimezone(local_time.tz_of(person)).date()):
            checkin = checkins.get_checkin(session, person, week, now=now)
            if not checkin.reviews:
                checkin.status = Status.AWAY
            continue
        channel = slack_ids.of(session, person, "check-in")
        if not channel:
            continue
        p = checkins.prompt_of(session, playbook, person, week, now=now)
        with i18n.language(slack_ids.language(session, person)) as lang:
            blocks = render.prompt_blocks(p.first_name, p.week, p.deals, p.outcomes, playbook, activity=p.activity,
                                          scores=p.scores, ask_activity=True, lang=lang)
        out.append(Outgoing(key, pw.prompt_at, channel, fallback_text(blocks),
                            as_dicts(blocks), on_sent=_remember_prompt(person.id, week, now)))
    return out


def checkin_reminders(deps: Deps, session: so.Session, *, now: datetime,
                      done: Callable[[SendKey], bool] = _nothing_done) -> list[Outgoing]:
    """Reminders to whoever was prompted and has not finished, never after their manager's digest."""
    cadence, playbook = deps.settings.cadence, deps.playbook
    slack_ids = SlackIds(deps)
    out: list[Outgoing] = []
    prompted = session.scalars(
        sa.select(CheckIn).where(CheckIn.prompted_at.is_not(None), CheckIn.week >= now.date() - timedelta(days=8),
                                 CheckIn.status.in_([Status.PENDING, Status.PARTIAL]))
    )
    for checkin in prompted:
        person = checkin.person
        if not person.slack_user_id or checkin.week != local_time.current_week(person, now) \
                or not local_time.schedulable(person):
            continue
        pw = local_time.week_of(person, checkin.week, cadence)
        digest_at = checkins.manager_digest_at(person, checkin.week, cadence)
        # A reminder whose moment came before the prompt went out (the bot was down over Monday
        # morning) would only repeat the prompt the person has just got: it is skipped.
        due = [(n, at) for n, at in enumerate(pw.reminders, start=1)
               if in_window(at, now, cadence.grace) and (digest_at is None or at < digest_at)
               and (checkin.prompted_at is None or at > checkin.prompted_at)]
        if not due:
            continue
        n, at = due[-1]  # after downtime, only the latest reminder that is due, not a burst of them
        key = SendKey(checkin.week, reminder_step(n), person.id)
        if done(key) or local_time.is_away(person, at.astimezone(local_time.tz_of(person)).date()):
            continue
        count = len(checkins.open_deals(session, person, playbook))
        if count == 0:
            continue
        with i18n.language(slack_ids.language(session, person)):
            blocks = render.reminder_blocks(person.name.split()[0], checkin.week, len(checkin.reviews), count)
        out.append(Outgoing(key, at, person.slack_user_id, fallback_text(blocks), as_dicts(blocks)))
    return out
