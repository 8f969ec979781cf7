"""Cadence step that reads people's Slack profiles ahead of time, once a day, before the
other steps decide anything: Slack ids and timezones the org file left empty, timezone moves,
deactivated accounts (see ``bot/services/profiles.py``). It sends nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy.orm as so

from bot.deps import Deps
from bot.services import profiles
from bot.slack.client import web_client
from bot.slack.directory import SlackProfiles
from schedules.outgoing import Outgoing, SendKey

log = logging.getLogger("coach.profiles")


def refresh_profiles(deps: Deps, session: so.Session, *, now: datetime,
                     done: Callable[[SendKey], bool] = lambda key: False) -> list[Outgoing]:
    """Read every profile when someone's was never read or the last read is a day old."""
    if not profiles.refresh_due(session, now=now):
        return []
    report = profiles.sync_profiles(session, SlackProfiles(web_client(deps.settings)), now=now)
    log.info("Slack profiles refreshed: %s", report.summary())
    for email, changes in report.changed:
        log.info("  %s: %s", email, ", ".join(changes))
    for email, reason in report.problems:
        log.warning("  profile of %s not read: %s", email, reason)
    return []
