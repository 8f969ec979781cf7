"""People's own time: their timezone, their week, their public holidays, their time away."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from bot.db.models import Person
from bot.domain.cadence import Cadence, PersonalWeek, local_week, personal_week

log = logging.getLogger("coach.checkin")


def tz_of(person: Person) -> ZoneInfo:
    return ZoneInfo(person.timezone or "UTC")


def schedulable(person: Person) -> bool:
    """Whether anything may be scheduled for ``person``: not deactivated in Slack, and their
    timezone known (from the org file or their Slack profile) unless their profile has not
    been read yet. Someone whose timezone could not be read is not prompted on UTC's clock:
    ``coach status`` lists them with the reason."""
    if person.deactivated:
        return False
    if person.timezone is None and person.profile_problem:
        log.warning("nothing scheduled for %s: %s", person.email, person.profile_problem)
        return False
    return True


@cache
def _holidays(country: str, year: int) -> frozenset[date]:
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        log.warning("no public holiday calendar for country %s", country)
        return frozenset()


def holiday_checker(country: str | None) -> Callable[[date], bool]:
    if not country:
        return lambda d: False
    return lambda d: d in _holidays(country.upper(), d.year)


def week_of(person: Person, week: date, cadence: Cadence) -> PersonalWeek:
    return personal_week(week, cadence, tz_of(person), holiday_checker(person.country))


def current_week(person: Person, now: datetime) -> date:
    return local_week(now, tz_of(person))


def is_away(person: Person, day: date) -> bool:
    return person.away_until is not None and day <= person.away_until
