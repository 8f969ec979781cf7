"""People's Slack profiles, read ahead of time: ``coach org sync`` and the scheduler's daily
refresh fill the Slack ids and timezones the org file leaves empty, follow timezone moves and
deactivated accounts, and record why a profile could not be read (nothing is defaulted)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db.models import Person
from bot.domain.profiles import Known, Profile, reconcile

REFRESH_EVERY = timedelta(days=1)
# Up to this many people, each profile is read on its own (users.info / users.lookupByEmail);
# past it, the workspace's user list is paged through once (users.list), which costs one call
# per 200 accounts instead of one per person.
ONE_BY_ONE_UP_TO = 100


class SourceUnavailable(Exception):
    """Slack could not be asked (an error other than "no such user"); the message says which."""


class ProfileSource(Protocol):
    """Where profiles come from: Slack's Web API (``bot.slack.directory``) or a test's stand-in.
    ``user`` and ``by_email`` return None for "no such user" and raise SourceUnavailable otherwise."""

    def user(self, user_id: str) -> Profile | None: ...

    def by_email(self, email: str) -> Profile | None: ...

    def every_user(self) -> Iterator[Profile]: ...


@dataclass
class SyncReport:
    checked: int = 0
    changed: list[tuple[str, list[str]]] = field(default_factory=list)  # (email, what changed)
    deactivated: list[str] = field(default_factory=list)  # emails
    problems: list[tuple[str, str]] = field(default_factory=list)  # (email, reason)
    by: str = ""  # "users.list" or "users.info/users.lookupByEmail"

    def summary(self) -> str:
        return (f"{self.checked} profiles read with {self.by}: {len(self.changed)} updated, "
                f"{len(self.deactivated)} deactivated, {len(self.problems)} could not be read")


def _known(p: Person) -> Known:
    return Known(p.email, p.slack_user_id, p.timezone, p.timezone_from_slack)


def sync_profiles(session: so.Session, source: ProfileSource, *, now: datetime,
                  one_by_one_up_to: int = ONE_BY_ONE_UP_TO) -> SyncReport:
    """Read every person's Slack profile and store what the org file left to Slack.

    Raises SourceUnavailable when the user list itself cannot be read (nothing is written then).
    """
    people = list(session.scalars(sa.select(Person).order_by(Person.id)))
    report = SyncReport(by="users.info/users.lookupByEmail" if len(people) <= one_by_one_up_to else "users.list")
    found: dict[int, Profile | None] = {}
    failed: dict[int, str] = {}
    if len(people) <= one_by_one_up_to:
        for p in people:
            try:
                found[p.id] = source.user(p.slack_user_id) if p.slack_user_id else source.by_email(p.email)
            except SourceUnavailable as e:
                failed[p.id] = str(e)
    else:
        by_id: dict[str, Profile] = {}
        by_email: dict[str, Profile] = {}
        for profile in source.every_user():
            by_id[profile.user_id] = profile
            if profile.email:
                by_email.setdefault(profile.email.lower(), profile)
        for p in people:
            found[p.id] = by_id.get(p.slack_user_id) if p.slack_user_id else by_email.get(p.email.lower())
    # Ids are unique: a person whose id is taken by someone else (in the org) keeps theirs.
    holders = {p.slack_user_id: p.id for p in people if p.slack_user_id}
    for p in people:
        report.checked += 1
        known = _known(p)
        if p.id in failed:
            p.profile_problem, p.profile_checked_at = f"Slack could not be asked: {failed[p.id]}", now
            report.problems.append((p.email, p.profile_problem))
            continue
        outcome = reconcile(known, found[p.id], deactivated=p.deactivated)
        if outcome.slack_user_id and outcome.slack_user_id != p.slack_user_id \
                and holders.get(outcome.slack_user_id, p.id) != p.id:
            outcome = reconcile(known, None, deactivated=p.deactivated)
            outcome = type(outcome)(outcome.slack_user_id, outcome.timezone, outcome.timezone_from_slack,
                                    outcome.deactivated, f"Slack's account for {p.email} is already another "
                                    "person's Slack id in the org file")
        changes = outcome.changes(known, p.deactivated)
        if changes:
            report.changed.append((p.email, changes))
            p.updated_at = now
        p.slack_user_id, p.timezone = outcome.slack_user_id, outcome.timezone
        p.timezone_from_slack, p.deactivated = outcome.timezone_from_slack, outcome.deactivated
        p.profile_problem, p.profile_checked_at = outcome.problem, now
        read = found[p.id]
        if read is not None and read.locale:
            p.slack_locale = read.locale[:16]  # their Slack language, unless they chose one
        if outcome.slack_user_id:
            holders[outcome.slack_user_id] = p.id
        if outcome.deactivated:
            report.deactivated.append(p.email)
        if outcome.problem:
            report.problems.append((p.email, outcome.problem))
    return report


def refresh_due(session: so.Session, *, now: datetime) -> bool:
    """Whether the daily refresh is due: someone's profile was never read, or not for a day."""
    oldest = session.execute(sa.select(sa.func.count(), sa.func.count(Person.profile_checked_at),
                                       sa.func.min(Person.profile_checked_at))).one()
    total, checked, earliest = oldest
    if total == 0:
        return False
    if checked < total:
        return True
    return earliest is None or now - _aware(earliest) >= REFRESH_EVERY


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ProfileIssue:
    email: str
    name: str
    state: str  # "deactivated" or the reason the profile could not be read


def profile_issues(session: so.Session) -> list[ProfileIssue]:
    """Who is deactivated in Slack and whose profile could not be read, for ``coach status``."""
    rows = session.execute(sa.select(Person.email, Person.name, Person.deactivated, Person.profile_problem)
                           .where(sa.or_(Person.deactivated, Person.profile_problem.is_not(None)))
                           .order_by(Person.email))
    return [ProfileIssue(e, n, "deactivated in Slack: gets nothing" if d else (prob or "")) for e, n, d, prob in rows]
