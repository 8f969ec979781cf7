"""Matching Slack users to people in the org."""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db.models import Person
from bot.domain.profiles import Profile
from bot.domain.values import valid_timezone
from bot.i18n import DEFAULT, normalize

SlackProfile = Profile  # a Slack account: id, email, timezone, deleted


class Directory(Protocol):
    """The part of Slack's Web API that tells who a user is."""

    def user(self, user_id: str) -> SlackProfile | None: ...

    def by_email(self, email: str) -> SlackProfile | None: ...


def person_for_slack_user(session: so.Session, user_id: str, directory: Directory) -> Person | None:
    """The org member behind ``user_id``.

    Matched by stored Slack id, else by the email on their Slack profile, in
    which case the id is stored. A timezone missing from the org file is
    taken from the profile.
    """
    person = session.scalar(sa.select(Person).where(Person.slack_user_id == user_id))
    if person is not None and person.timezone and person.slack_locale is not None:
        return person
    profile = directory.user(user_id)
    if person is None:
        if profile is None or not profile.email:
            return None
        person = session.scalar(sa.select(Person).where(Person.email == profile.email.lower()))
        if person is None:
            return None
        if person.slack_user_id and person.slack_user_id != user_id:
            return None  # the org says this email is someone else's Slack account
        person.slack_user_id = user_id
    if not person.timezone and profile and profile.tz and valid_timezone(profile.tz):
        person.timezone, person.timezone_from_slack = profile.tz, True
    if profile is not None:
        person.slack_locale = (profile.locale or "")[:16]
    return person


def language_of(person: Person, default: str) -> str:
    """The language ``person`` reads: chosen (org CSV, `/deal language`), else their Slack
    profile's locale, else the workspace's (`COACH_LANGUAGE`)."""
    return normalize(person.language) or normalize(person.slack_locale) or normalize(default) or DEFAULT


def recipient_language(session: so.Session, person: Person, directory: Directory, default: str) -> str:
    """``language_of`` for someone the bot writes to first: their Slack locale is asked once."""
    if person.language is None and person.slack_locale is None and person.slack_user_id:
        profile = directory.user(person.slack_user_id)
        if profile is not None:
            person.slack_locale = (profile.locale or "")[:16]
    return language_of(person, default)


def set_language(person: Person, lang: str) -> str:
    """`/deal language zh|en`; ValueError on a language the bot doesn't speak."""
    code = normalize(lang)
    if code is None:
        raise ValueError(lang)
    person.language = code
    return code


def slack_id_for(session: so.Session, person: Person, directory: Directory) -> str | None:
    """``person``'s Slack id, looked up by email (and stored) when the org had none."""
    if person.slack_user_id:
        return person.slack_user_id
    profile = directory.by_email(person.email)
    if profile is None:
        return None
    person.slack_user_id = profile.user_id
    if not person.timezone and profile.tz and valid_timezone(profile.tz):
        person.timezone, person.timezone_from_slack = profile.tz, True
    return profile.user_id
