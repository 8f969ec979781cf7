"""A person's Slack profile against what the org holds: what to keep, what to take from Slack.

Pure: the caller reads the profile (``users.info``, ``users.lookupByEmail`` or ``users.list``)
and stores the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.values import valid_timezone


@dataclass(frozen=True)
class Known:
    """What the org holds about a person."""

    email: str
    slack_user_id: str | None
    timezone: str | None
    timezone_from_slack: bool  # False: the org file set it, and the org file wins


@dataclass(frozen=True)
class Profile:
    """A Slack account as the Web API describes it."""

    user_id: str
    email: str | None
    tz: str | None
    deleted: bool = False
    locale: str | None = None  # the Slack profile's language, like zh-CN (users.info with include_locale)


@dataclass(frozen=True)
class Outcome:
    slack_user_id: str | None
    timezone: str | None
    timezone_from_slack: bool
    deactivated: bool
    problem: str | None  # why the profile could not be used; None when it was

    def changes(self, known: Known, was_deactivated: bool) -> list[str]:
        """What differs from ``known``, in words, for the sync's report."""
        out = []
        if self.slack_user_id != known.slack_user_id:
            out.append(f"Slack id {self.slack_user_id}")
        if self.timezone != known.timezone:
            out.append(f"timezone {known.timezone or '(none)'} -> {self.timezone}")
        if self.deactivated != was_deactivated:
            out.append("deactivated in Slack" if self.deactivated else "active again in Slack")
        return out


def not_found(known: Known) -> str:
    """Why no profile was found for ``known``."""
    if known.slack_user_id:
        return f"Slack has no user {known.slack_user_id} (the org's Slack id for {known.email})"
    return f"no Slack account has the email {known.email}"


def reconcile(known: Known, profile: Profile | None, *, deactivated: bool) -> Outcome:
    """The person's Slack id, timezone and state once ``profile`` (None: not found) is taken in.

    An id or timezone the org file gives is kept; one it left empty comes from Slack, and a
    timezone that came from Slack follows Slack when the person moves. A deleted account is
    deactivated. Nothing is defaulted: what cannot be read is kept as it was and the reason given.
    """
    if profile is None:
        return Outcome(known.slack_user_id, known.timezone, known.timezone_from_slack, deactivated, not_found(known))
    if known.slack_user_id and known.slack_user_id != profile.user_id:
        return Outcome(known.slack_user_id, known.timezone, known.timezone_from_slack, deactivated,
                       f"the org says {known.email} is Slack user {known.slack_user_id}, "
                       f"but Slack's account with that email is {profile.user_id}")
    tz, from_slack, problem = known.timezone, known.timezone_from_slack, None
    if tz is None or from_slack:
        if profile.tz and valid_timezone(profile.tz):
            tz, from_slack = profile.tz, True
        elif tz is None:
            problem = (f"Slack profile of {known.email} has no usable timezone ({profile.tz or 'none set'}): "
                       "set it in the org file's timezone column")
    return Outcome(profile.user_id, tz, from_slack, profile.deleted, problem)
