"""Loading what the digests need in a handful of bulk queries, then computing them all at once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import (
    Deal,
    DealSnapshot,
    ManagerComment,
    Person,
)
from bot.domain import org
from bot.domain.digest import CommentRow, ManagerDigest, Node, OrgInput, ReportRow, compute
from bot.domain.playbook import Playbook
from bot.domain.waterfall import Snapshot
from bot.services.deals import take_snapshots
from bot.services.errors import UserError
from bot.services.local_time import current_week

CLOSE_HISTORY_WEEKS = 8


def load_org_input(session: so.Session, week: date, *, owner_ids: list[int] | None = None) -> OrgInput:
    """Everything ``compute`` needs for the digests of ``week`` (only the deals of ``owner_ids``
    when given: one manager's subtree)."""
    snaps: dict[str, Snapshot] = {}
    history: dict[str, list] = defaultdict(list)
    q = (sa.select(Deal.ref, DealSnapshot.week, DealSnapshot.stage, DealSnapshot.amount, DealSnapshot.currency,
                   DealSnapshot.close_date, DealSnapshot.forecast)
         .join(Deal, Deal.id == DealSnapshot.deal_id)
         .where(DealSnapshot.week.between(week - timedelta(weeks=CLOSE_HISTORY_WEEKS), week))
         .order_by(DealSnapshot.week))
    if owner_ids is not None:
        q = q.where(Deal.owner_id.in_(owner_ids))
    for ref, wk, stage, amount, currency, close, forecast in session.execute(q):
        if wk == week:
            snaps[ref] = Snapshot(ref, stage, amount, currency, close, forecast)
        else:
            history[ref].append(close)
    return OrgInput(repo.load_facts(session, owner_ids=owner_ids), snaps, history,
                    org.reports_of(repo.manager_map(session)),
                    repo.checkin_status(session, week))


def all_digests(session: so.Session, playbook: Playbook, week: date, *, now: datetime) -> dict[str, Node]:
    """Every person's digest node for ``week`` (keys are person ids as strings)."""
    data = load_org_input(session, week)
    roots = [str(pid) for pid in session.scalars(sa.select(Person.id).where(Person.manager_id.is_(None)))]
    return compute(data, roots, playbook, now=now)


@dataclass(frozen=True)
class Team:
    """The org, loaded once: names, reporting lines, who is a manager."""

    names: dict[str, str]
    managers: dict[str, str | None]
    reports: dict[str, list[str]]
    tiers: dict[str, int]


def load_team(session: so.Session) -> Team:
    rows = session.execute(sa.select(Person.id, Person.name, Person.tier)).all()
    managers = repo.manager_map(session)
    names = {str(i): n for i, n, _ in rows}
    return Team(names, managers, org.reports_of(managers), {str(i): t for i, _, t in rows})


def manager_digest(team: Team, nodes: dict[str, Node], key: str, week: date, checkin_status: dict[str, str],
                   comments: list[CommentRow]) -> ManagerDigest:
    """One manager's digest, from the computed nodes."""
    rows = [ReportRow(team.names[r], team.tiers[r] > 0, checkin_status.get(r, "") if team.tiers[r] == 0 else "",
                      nodes[r]) for r in sorted(team.reports.get(key, []), key=lambda r: team.names[r])]
    beneath = [p for p in org.subtree(team.managers, key) if p != key]
    not_finished = sorted(team.names[p] for p in beneath if checkin_status.get(p) in ("pending", "partial"))
    away = sorted(team.names[p] for p in beneath if checkin_status.get(p) == "away")
    return ManagerDigest(team.names[key], week, nodes[key], rows, comments, not_finished, away, team.names)


def ensure_snapshots(session: so.Session, week: date, *, now: datetime) -> bool:
    """Record the deals as they stand at the start of ``week``, once: True if taken now."""
    if session.scalar(sa.select(sa.func.count()).select_from(DealSnapshot).where(DealSnapshot.week == week)):
        return False
    try:
        with session.begin_nested():
            take_snapshots(session, week, now=now)
    except sa.exc.IntegrityError:
        return False  # another instance took them at the same moment
    return True


def is_manager(session: so.Session, person: Person) -> bool:
    return bool(session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.manager_id == person.id)))


def require_manager(session: so.Session, person: Person) -> None:
    """Digests, comments and forecasts are for managers: say so to anyone else."""
    if not is_manager(session, person):
        raise UserError("not_a_manager")


def comments_for(session: so.Session, manager: Person, week: date) -> list[CommentRow]:
    """What ``manager``'s direct reports said on their own digests of ``week``: the tier below speaks up."""
    rows = session.execute(
        sa.select(Person.name, ManagerComment.text, ManagerComment.commit_amount, ManagerComment.best_case_amount,
                  ManagerComment.currency)
        .join(Person, Person.id == ManagerComment.author_id)
        .where(Person.manager_id == manager.id, ManagerComment.week == week)
        .order_by(Person.name))
    return [CommentRow(name, text, commit, best, currency or "") for name, text, commit, best, currency in rows]


def comment_of(session: so.Session, author: Person, week: date) -> ManagerComment | None:
    return session.scalar(sa.select(ManagerComment).where(ManagerComment.author_id == author.id,
                                                          ManagerComment.week == week))


def save_comment(session: so.Session, author: Person, week: date, *, text: str, commit: Decimal | None,
                 best_case: Decimal | None, currency: str | None, now: datetime) -> ManagerComment:
    """Create or replace ``author``'s comment and forecast for ``week``."""
    comment = comment_of(session, author, week)
    if comment is None:
        comment = ManagerComment(author=author, week=week, created_at=now)
        session.add(comment)
    comment.text, comment.commit_amount, comment.best_case_amount = text, commit, best_case
    comment.currency = currency if (commit is not None or best_case is not None) else None
    comment.updated_at = now
    return comment


def digest_for(session: so.Session, playbook: Playbook, person: Person, *, now: datetime) -> ManagerDigest:
    """One manager's digest of this week on demand (``/pipeline digest``), computed like the scheduled ones."""
    require_manager(session, person)
    week = current_week(person, now)
    team = load_team(session)
    key = str(person.id)
    # Only the caller's subtree is loaded and rolled up, not the whole org's.
    subtree = [int(k) for k in org.subtree(team.managers, key)]
    nodes = compute(load_org_input(session, week, owner_ids=subtree), [key], playbook, now=now)
    return manager_digest(team, nodes, key, week, repo.checkin_status(session, week),
                          comments_for(session, person, week))


def usual_currency(session: so.Session, manager: Person) -> str:
    """The currency most of the manager's pipeline is in, across their whole subtree (a second-line
    manager's direct reports own no deals): the forecast field's default. A new deal's currency is
    :func:`bot.services.deals.default_currency`'s."""
    team = [int(k) for k in org.subtree(repo.manager_map(session), str(manager.id))]
    found = session.execute(sa.select(Deal.currency, sa.func.sum(Deal.amount)).where(Deal.owner_id.in_(team))
                            .group_by(Deal.currency).order_by(sa.func.sum(Deal.amount).desc(), Deal.currency)
                            .limit(1)).first()
    return found[0] if found else "USD"
