"""Cadence step for the weekly roll-up: each tier of managers gets its digest on its day,
at the configured time in the manager's own timezone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot import i18n
from bot.db import repo
from bot.db.models import Person
from bot.deps import Deps
from bot.domain.cadence import digest_instant, in_window, local_week
from bot.render.blocks import as_dicts, fallback_text
from bot.render.digest import manager_digest_blocks
from bot.services import digests, local_time
from schedules.outgoing import Outgoing, SendKey, SlackIds

log = logging.getLogger("coach.digest")
DIGEST = "digest"
CHANNEL_DIGEST = "digest_channel"


def due_managers(session: so.Session, deps: Deps, *, now: datetime,
                 done: Callable[[SendKey], bool]) -> list[tuple[Person, date, datetime]]:
    """Managers whose digest time has come (within the grace window) and who have not had it,
    with their week and due time."""
    cadence = deps.settings.cadence
    out = []
    for m in session.scalars(sa.select(Person).where(Person.tier > 0).order_by(Person.id)):
        tz = local_time.tz_of(m)
        week = local_week(now, tz)
        at = digest_instant(week, m.tier, cadence, tz)
        pending = not done(SendKey(week, DIGEST, m.id)) or (
            deps.settings.digest_channel and m.manager_id is None and not done(SendKey(week, CHANNEL_DIGEST, m.id)))
        if pending and in_window(at, now, cadence.grace):
            out.append((m, week, at))
    return out


def manager_digests(deps: Deps, session: so.Session, *, now: datetime,
                    done: Callable[[SendKey], bool] = lambda key: False) -> list[Outgoing]:
    """Every due manager's digest; the digests are computed once per week in one pass."""
    due = due_managers(session, deps, now=now, done=done)
    if not due:
        return []
    team = digests.load_team(session)
    computed: dict[date, tuple[dict, dict[str, str]]] = {}
    slack_ids = SlackIds(deps)
    out: list[Outgoing] = []
    top_ids = {str(p) for p in session.scalars(sa.select(Person.id).where(Person.manager_id.is_(None)))}
    for manager, week, at in due:
        if week not in computed:
            status = repo.checkin_status(session, week)
            computed[week] = (digests.all_digests(session, deps.playbook, week, now=now), status)
        nodes, status = computed[week]
        key = str(manager.id)
        digest = digests.manager_digest(team, nodes, key, week, status, digests.comments_for(session, manager, week))
        channel = slack_ids.of(session, manager, "digest")
        with i18n.language(slack_ids.language(session, manager)) as lang:  # the recipient's, whoever is in it
            blocks = manager_digest_blocks(digest, deps.playbook, lang=lang)
        if not channel:
            continue
        payload = as_dicts(blocks)
        if not done(SendKey(week, DIGEST, manager.id)):
            out.append(Outgoing(SendKey(week, DIGEST, manager.id), at, channel, fallback_text(blocks), payload))
        if deps.settings.digest_channel and key in top_ids and not done(SendKey(week, CHANNEL_DIGEST, manager.id)):
            if deps.settings.language != lang:  # a channel reads the workspace's language
                with i18n.language(deps.settings.language) as lang:
                    blocks = manager_digest_blocks(digest, deps.playbook, lang=lang)
                payload = as_dicts(blocks)
            out.append(Outgoing(SendKey(week, CHANNEL_DIGEST, manager.id), at, deps.settings.digest_channel,
                                fallback_text(blocks), payload))
    return out
