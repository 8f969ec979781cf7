"""Cadence step for the weekly roll-up: each tier of managers gets its digest on its day,
at the configured time in the manager's own timezone."""

from __future__ import annotations

import gc
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot import i18n
from bot.db import repo
from bot.db.models import Person
from bot.deps import Deps
from bot.domain.cadence import digest_instant, in_window, local_week
from bot.domain.digest import CommentRow, Node
from bot.domain.forecast import ForecastCheck, ReviewRow
from bot.domain.tiers import TierView
from bot.render.blocks import as_dicts, fallback_text, macro
from bot.render.charts import drawn
from bot.render.digest import manager_digest_blocks
from bot.services import charts, digests, local_time, tier_views
from bot.services.coverage import CoverageIndex
from schedules.outgoing import Outgoing, SendKey, SlackIds

log = logging.getLogger("coach.digest")
DIGEST = "digest"
CHANNEL_DIGEST = "digest_channel"
DIGEST_CHARTS = "digest_charts"
CHANNEL_DIGEST_CHARTS = "digest_channel_charts"


def _in_window(session: so.Session, deps: Deps, now: datetime) -> list[tuple[Person, date, datetime]]:
    """Managers whose digest time has come (within the grace window), with their week and due time."""
    cadence = deps.settings.cadence
    out = []
    for m in session.scalars(sa.select(Person).where(Person.tier > 0).order_by(Person.id)):
        if not local_time.schedulable(m):
            continue
        tz = local_time.tz_of(m)
        week = local_week(now, tz)
        at = digest_instant(week, m.tier, cadence, tz)
        if in_window(at, now, cadence.grace):
            out.append((m, week, at))
    return out


def _to_channel(deps: Deps, manager: Person) -> bool:
    """The top's digest (and its charts) also go to the digest channel, when one is set."""
    return bool(deps.settings.digest_channel) and manager.manager_id is None


def due_managers(session: so.Session, deps: Deps, *, now: datetime,
                 done: Callable[[SendKey], bool]) -> list[tuple[Person, date, datetime]]:
    """Managers whose digest time has come (within the grace window) and who have not had it,
    with their week and due time."""
    return [(m, week, at) for m, week, at in _in_window(session, deps, now)
            if not done(SendKey(week, DIGEST, m.id))
            or (_to_channel(deps, m) and not done(SendKey(week, CHANNEL_DIGEST, m.id)))]


@dataclass(frozen=True)
class WeekDigests:
    """What the due managers' digests of one week and reporting currency are made from, loaded for all
    of them at once: the nodes, then each step's comments, forecast checks, reviews and tier sections
    in a few queries however many managers are due (one query each per manager took ~30 ms apiece)."""

    nodes: dict[str, Node]
    status: dict[str, str]
    coverage: CoverageIndex
    comments: dict[int, list[CommentRow]]
    checks: dict[int, ForecastCheck | None]
    reviews: dict[int, list[ReviewRow]]
    tiers: dict[str, TierView]


def manager_digests(deps: Deps, session: so.Session, *, now: datetime,
                    done: Callable[[SendKey], bool] = lambda key: False) -> list[Outgoing]:
    """Every due manager's digest; the digests are computed once per week in one pass."""
    due = due_managers(session, deps, now=now, done=done)
    if not due:
        return []
    team = digests.load_team(session)
    groups: dict[tuple[date, str], list[Person]] = defaultdict(list)
    for manager, week, _ in due:
        # Usually one group: the workspace's currency, the same week everywhere.
        groups[week, digests.reporting_currency(manager, deps.settings.reporting_currency)].append(manager)
    slack_ids = SlackIds(deps)
    out: list[Outgoing] = []
    top_ids = {str(p) for p in session.scalars(sa.select(Person.id).where(Person.manager_id.is_(None)))}
    # Without cycle collection while the week's nodes are made (see there). They live on through every
    # manager's digest and charts: set aside (frozen) before the collector is back, or it walks their
    # million objects again (2 s of a step at 200,000 deals on the first collection alone).
    with digests.no_cycle_collection():
        loaded = {(week, currency): _week_digests(deps, session, team, week, currency, managers, now=now)
                  for (week, currency), managers in groups.items()}
        gc.freeze()
    try:
        for manager, week, at in due:
            currency = digests.reporting_currency(manager, deps.settings.reporting_currency)
            out += _manager_digest(deps, session, manager, week, at, team, loaded[week, currency], slack_ids,
                                   top_ids, now=now, done=done)
    finally:
        gc.unfreeze()
    return out


def _week_digests(deps: Deps, session: so.Session, team: digests.Team, week: date, currency: str,
                  managers: list[Person], *, now: datetime) -> WeekDigests:
    """The nodes of ``week`` in ``currency``, and what ``managers``' digests show besides, for all of them."""
    cadence = deps.settings.cadence
    nodes = digests.all_digests(session, deps.playbook, week, now=now, quiet_weeks=cadence.quiet_weeks,
                                currency=currency, scored={str(m.id) for m in managers},
                                within={str(m.id) for m in managers})
    coverage = CoverageIndex(session, deps.playbook, team.managers, nodes, week, rates=repo.load_rates(session),
                             currency=currency)
    ids = [m.id for m in managers]
    return WeekDigests(
        nodes, repo.checkin_status(session, week), coverage,
        digests.comments_by_manager(session, ids, week),
        digests.forecast_checks(session, deps.playbook, ids, week, now=now, margin=cadence.forecast_margin,
                                managers=team.managers, reports=team.reports),
        digests.reviews_by_manager(session, ids, week),
        tier_views.tier_views(session, deps.playbook, team, nodes, [str(i) for i in ids], week, coverage,
                              currency=currency, signoff_tier=cadence.signoff_tier, now=now,
                              margin=cadence.forecast_margin))


def _manager_digest(deps: Deps, session: so.Session, manager: Person, week: date, at: datetime,
                    team: digests.Team, loaded: WeekDigests, slack_ids: SlackIds, top_ids: set[str], *,
                    now: datetime, done: Callable[[SendKey], bool]) -> list[Outgoing]:
    """One due manager's digest (and charts), from what was loaded for all of them."""
    out: list[Outgoing] = []
    key = str(manager.id)
    digest = digests.manager_digest(
        team, loaded.nodes, key, week, loaded.status, loaded.comments[manager.id], loaded.coverage,
        signoff_tier=deps.settings.cadence.signoff_tier, check=loaded.checks[manager.id],
        reviews=loaded.reviews[manager.id], tier=loaded.tiers[key])
    channel = slack_ids.of(session, manager, "digest")
    with i18n.language(slack_ids.language(session, manager)) as lang:  # the recipient's, whoever is in it
        blocks = manager_digest_blocks(digest, deps.playbook, lang=lang)
    if not channel:
        return out
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


def digest_charts(deps: Deps, session: so.Session, *, now: datetime,
                  done: Callable[[SendKey], bool] = lambda key: False) -> list[Outgoing]:
    """The charts of every digest already sent this week and still without them.

    A step of their own, after the digests: drawing takes 0.3-0.8 s a manager, so a thousand
    managers' digests would otherwise wait minutes for every chart; and a digest's charts follow it
    only once it is out (also when they failed before and the digest did not)."""
    slack_ids = SlackIds(deps)
    out: list[Outgoing] = []
    for manager, week, at in _in_window(session, deps, now):
        to_channel = _to_channel(deps, manager) and done(SendKey(week, CHANNEL_DIGEST, manager.id))
        charts_due = not done(SendKey(week, DIGEST_CHARTS, manager.id)) or (
            to_channel and not done(SendKey(week, CHANNEL_DIGEST_CHARTS, manager.id)))
        if not charts_due or not done(SendKey(week, DIGEST, manager.id)):
            continue
        channel = slack_ids.of(session, manager, "digest charts")
        if channel:
            out += _charts(deps, session, manager, week, at, channel, slack_ids.language(session, manager), now=now,
                           done=done, to_channel=to_channel)
    return out


def _charts(deps: Deps, session: so.Session, manager: Person, week: date, at: datetime, channel: str, reads: str, *,
            now: datetime, done: Callable[[SendKey], bool], to_channel: bool) -> list[Outgoing]:
    """The digest's charts (funnel, the week's waterfall, plan vs actual), uploaded after it, once each,
    in the language its reader ``reads`` (a channel: the workspace's)."""
    keys = [(SendKey(week, DIGEST_CHARTS, manager.id), channel, reads)]
    if to_channel:  # a channel reads the workspace's language
        keys.append((SendKey(week, CHANNEL_DIGEST_CHARTS, manager.id), deps.settings.digest_channel or "",
                     deps.settings.language))
    out = []
    for key, where, lang in keys:
        if done(key):
            continue
        with i18n.language(lang):
            files = drawn(charts.person_charts(session, deps.playbook, manager, now=now, week=week, tag=key.tag))
            comment = macro("numbers.j2", "digest_charts_comment", week=week)
        if files:
            out.append(Outgoing(key, at, where, comment, [], files=files))
    return out
